"""A text reply tells the lead's owner on the bell, once (a provider's retry is the same
message), saying what it asks without its words."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.leads.outreach.conftest import text_in
from trialsnest.notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db


def test_a_text_reply_tells_the_owner_and_a_provider_retry_does_not(world: World, sms_lead):
    for _ in range(2):
        text_in(
            organization_id=world.org_a.pk,
            from_number=sms_lead.person.phone,
            body="Tuesday works",
            provider_id="SM1",
        )
    text_in(organization_id=world.org_a.pk, from_number=sms_lead.person.phone, body="STOP")

    assert _notices(sms_lead) == [
        (Kind.REPLY, "The person replied by text"),
        (Kind.REPLY, "The person asked to stop messages on this channel"),
    ]
    assert "Tuesday" not in str(_notices(sms_lead))


def _notices(lead) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=lead.owner, lead_code=lead.code)
        .order_by("id")
        .values_list("kind", "reason")
    )
