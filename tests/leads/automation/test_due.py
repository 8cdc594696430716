"""Falling due: the owner hears once per due time, from the scan of the next five minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.automation.due import due_notify, due_soon
from leads.services import lead_set_next_action
from tests.conftest import World
from tests.factories import new_lead
from trialsnest.audit.services import Actor
from trialsnest.notifications.models import Kind, Notification


@pytest.mark.django_db
def test_the_owner_hears_once_when_a_lead_falls_due(world: World) -> None:
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    later = timezone.now() + timedelta(hours=3)
    lead_set_next_action(lead=lead, kind="callback", due_at=later, actor=Actor(user=None))
    new_lead(study_site=world.study_site_b, owner=world.outsider)  # due now: not in the window

    assert due_soon(now=later - timedelta(minutes=10)) == []
    assert due_notify(now=later - timedelta(minutes=4)) == 1
    assert due_notify(now=later - timedelta(minutes=3)) == 0

    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind, notice.lead_code) == (
        world.coordinator,
        Kind.DUE,
        lead.code,
    )
    assert notice.reason.startswith("Callback due at")
