"""Out of office: a member marks an absence; meanwhile their reminders are held and the site
lead sees their due leads on the Team page with a link to spread them fairly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.automation.due import due_notify
from leads.services import lead_set_next_action
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_a_member_marks_an_absence_and_sees_mistakes_next_to_the_field(world: World) -> None:
    client = signed_in(world.coordinator.user)
    today = timezone.localdate()

    page = client.post(reverse("away"), {"away_from": today, "away_until": today - timedelta(1)})
    assert page.status_code == 200
    assert b'id="id_away_until_error"' in page.content
    assert b"The last day comes on or after the first." in page.content
    page = client.post(reverse("away"), {"away_from": today})
    assert b"Give both the first and the last day, or neither." in page.content

    done = client.post(reverse("away"), {"away_from": today, "away_until": today + timedelta(3)})
    assert done.status_code == 302
    world.coordinator.refresh_from_db()
    assert world.coordinator.is_away(today)
    assert AuditEvent.objects.filter(action="membership.away_set").count() == 1


def test_the_site_lead_sees_the_absence_with_the_due_leads_and_one_click_to_spread_them(
    world: World,
) -> None:
    today = timezone.localdate()
    world.coordinator.away_from, world.coordinator.away_until = today, today + timedelta(days=4)
    world.coordinator.save()
    for _ in range(2):
        new_lead(study_site=world.study_site_a, owner=world.coordinator)

    page = signed_in(world.site_lead.user).get(reverse("team"))
    text = page.content.decode()
    assert f"{world.coordinator.user} is out until" in text
    assert ": 2 leads due." in text
    assert reverse("team_reassign", kwargs={"code": world.coordinator.code}) + "?to=" in text


def test_reminders_are_held_while_the_owner_is_away(world: World) -> None:
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    later = timezone.now() + timedelta(hours=3)
    lead_set_next_action(lead=lead, kind="callback", due_at=later, actor=Actor(user=None))
    today = timezone.localdate(later)
    world.coordinator.away_from, world.coordinator.away_until = today, today
    world.coordinator.save()

    assert due_notify(now=later) == 0
    world.coordinator.away_from = world.coordinator.away_until = None
    world.coordinator.save()
    assert due_notify(now=later) == 1
    assert Notification.objects.count() == 1


def test_a_member_sets_their_own_time_zone_or_goes_back_to_the_sites(world: World) -> None:
    client = signed_in(world.coordinator.user)

    page = client.get(reverse("away"))
    assert f"Your site&#x27;s ({world.site_a.timezone})".encode() in page.content
    wrong = client.post(reverse("away"), {"timezone": "Mars/Olympus"})
    assert wrong.status_code == 200
    assert b"is not a known time zone." in wrong.content
    assert client.post(reverse("away"), {"timezone": "Europe/Madrid"}).status_code == 302
    world.coordinator.refresh_from_db()
    assert world.coordinator.timezone == "Europe/Madrid"
    assert client.post(reverse("away"), {"timezone": ""}).status_code == 302
    world.coordinator.refresh_from_db()
    assert world.coordinator.timezone == ""
    changes = AuditEvent.objects.filter(action="membership.timezone_set").order_by("id")
    assert [event.changes["timezone"]["new"] for event in changes] == ["Europe/Madrid", ""]
