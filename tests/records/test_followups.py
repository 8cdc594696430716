"""Records follow-ups: an overdue request reminds the owner once, a week later the site lead
once; a follow-up with a new due date starts again."""

from __future__ import annotations

import datetime

import pytest

from leads.models import Lead
from records.followups import records_follow_up
from records.models import Provider
from records.services import record_item_follow_up, record_item_request
from tests.conftest import World
from tests.leads.conftest import actor_of
from tests.records.conftest import TODAY, items_of
from trialsnest.notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db


def _requested(world: World, lead: Lead, provider: Provider) -> None:
    record_item_request(
        item=items_of(lead)["HbA1c"],
        provider=provider,
        method="fax",
        requested_on=TODAY,
        due_on=TODAY + datetime.timedelta(days=5),
        authorization_on_file=True,
        actor=actor_of(world, "coordinator"),
    )


def test_an_overdue_request_reminds_the_owner_then_the_site_lead_once_each(
    world: World, records_lead: Lead, provider: Provider
) -> None:
    _requested(world, records_lead, provider)
    due = TODAY + datetime.timedelta(days=5)

    assert records_follow_up(today=due) == (0, 0)
    assert records_follow_up(today=due + datetime.timedelta(days=1)) == (1, 0)
    assert records_follow_up(today=due + datetime.timedelta(days=2)) == (0, 0)
    assert records_follow_up(today=due + datetime.timedelta(days=8)) == (0, 1)
    assert records_follow_up(today=due + datetime.timedelta(days=9)) == (0, 0)

    owner = Notification.objects.get(kind=Kind.DUE)
    assert owner.recipient_id == records_lead.owner_id
    assert owner.lead_code == records_lead.code
    escalation = Notification.objects.get(kind=Kind.ESCALATION)
    assert escalation.recipient == world.site_lead
    assert "Waiting for medical records since" in escalation.reason


def test_a_follow_up_with_a_new_due_date_starts_again(
    world: World, records_lead: Lead, provider: Provider
) -> None:
    _requested(world, records_lead, provider)
    later = TODAY + datetime.timedelta(days=6)
    records_follow_up(today=later)
    record_item_follow_up(
        item=items_of(records_lead)["HbA1c"],
        actor=actor_of(world, "coordinator"),
        due_on=TODAY + datetime.timedelta(days=10),
    )

    assert records_follow_up(today=later) == (0, 0)  # not overdue any more
    assert records_follow_up(today=TODAY + datetime.timedelta(days=11)) == (1, 0)
    assert Notification.objects.filter(kind=Kind.DUE).count() == 2
