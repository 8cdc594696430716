"""The weekly review: movement since last week, blockers, SLA misses by dimension and the
stale-lead list on one page; action items with an owner, a due date and a measure, on the
owner's queue until done; next week's review opens with each and how its measure moved."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leads.models import Blocker, CloseReason, Lead, Status
from reporting.models import ActionItem, Review
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db


def _add(client, world: World, **overrides):
    data = {
        "title": "Call back the radio leads within a day",
        "owner": world.coordinator.pk,
        "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "metric": "contacted",
        **overrides,
    }
    return client.post("/reviews/", data)


def test_the_page_shows_movement_blockers_sla_misses_and_the_stale_list(world: World):
    now = timezone.now()
    moved = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    Lead.objects.filter(pk=moved.pk).update(status=Status.CONTACTING, status_changed_at=now)
    closed = new_lead(study_site=world.study_site_a)
    Lead.objects.filter(pk=closed.pk).update(
        status=Status.CLOSED,
        close_reason=CloseReason.NOT_INTERESTED,
        status_changed_at=now,
        next_action="",
        next_action_due_at=None,
    )
    blocked = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    Lead.objects.filter(pk=blocked.pk).update(
        blocker=Blocker.MISSING_RECORDS, sla_due_at=now - timedelta(hours=2)
    )
    stale = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    Lead.objects.filter(pk=stale.pk).update(
        stale_at=now - timedelta(days=1), stale_marked_at=now - timedelta(hours=1)
    )
    page = signed_in(world.site_lead.user).get("/reviews/")
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert "<th>Moved forward</th><td>1</td>" in body
    assert "Not interested: 1" in body
    assert "<td>Missing records</td><td>1</td>" in body
    # The worst blockers, by their label (a row of three cells: blocker, leads, since).
    assert "<td>Missing records</td><td>1</td><td>" in body
    assert "<td>missing_records</td>" not in body
    assert "<caption>Blocker</caption>" in body
    assert f'href="/leads/{stale.code}/"' in body
    assert "<th>Newly marked stale</th><td>1</td>" in body


def test_an_action_goes_on_the_owners_queue_until_done(world: World):
    site_lead = signed_in(world.site_lead.user)
    saved = _add(site_lead, world)
    assert saved.status_code == 302
    item = ActionItem.objects.get()
    assert item.review.week_start == timezone.localdate() - timedelta(
        days=timezone.localdate().weekday()
    )
    assert AuditEvent.objects.filter(action="review.action_added").count() == 1

    coordinator = signed_in(world.coordinator.user)
    queue = html.unescape(coordinator.get("/queue/").content.decode())
    assert "Your actions from the weekly review" in queue
    assert "Call back the radio leads within a day" in queue
    other = signed_in(world.admin.user).get("/queue/").content.decode()
    assert "Your actions from the weekly review" not in other

    done = coordinator.post(f"/reviews/actions/{item.code}/done/", {"next": "/queue/"})
    assert done["Location"] == "/queue/"
    item.refresh_from_db()
    assert item.done_by == world.coordinator.user
    assert "Your actions from the weekly review" not in coordinator.get("/queue/").content.decode()


def test_the_owner_of_an_action_hears_of_it_once_and_without_its_words(world: World):
    site_lead = signed_in(world.site_lead.user)
    due = timezone.localdate() + timedelta(days=3)
    _add(site_lead, world, title="Call Maria Gonzalez back")
    _add(site_lead, world, owner=world.site_lead.pk)  # one's own action is not news

    (notice,) = Notification.objects.all()
    assert (notice.recipient, notice.kind) == (world.coordinator, Kind.ACTION_ITEM)
    assert notice.reason == f"The weekly review gave you an action, due {due:%a %d %b}"
    coordinator = signed_in(world.coordinator.user)
    listed = html.unescape(coordinator.get("/notifications/").content.decode())
    assert f'<a href="/queue/">{notice.reason}</a>' in listed
    assert "Maria" not in listed


def test_bad_actions_are_told_next_to_their_fields(world: World):
    site_lead = signed_in(world.site_lead.user)
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = _add(site_lead, world, title="  ", due_on=past, owner=world.outsider.pk)
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    assert "Select a valid choice" in body  # another organization's member
    assert "This field is required." in body
    assert not ActionItem.objects.exists()
    late = _add(site_lead, world, due_on=past)
    assert "Pick today or a later day." in html.unescape(late.content.decode())


def test_next_weeks_review_opens_with_last_weeks_actions_and_their_measures(world: World):
    site_lead = signed_in(world.site_lead.user)
    _add(site_lead, world, title="Fix the vendor list routing", metric="received")
    item = ActionItem.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        body = html.unescape(signed_in(world.site_lead.user).get("/reviews/").content.decode())
    assert "Last review's actions" in body
    assert "Fix the vendor list routing" in body
    assert "Not done" in body
    assert Review.objects.get().pk == item.review_id


def test_only_its_owner_or_a_site_lead_marks_an_action_done(world: World):
    _add(signed_in(world.site_lead.user), world, owner=world.site_lead.pk)
    item = ActionItem.objects.get()
    url = f"/reviews/actions/{item.code}/done/"
    assert signed_in(world.coordinator.user).post(url).status_code == 404
    assert signed_in(world.outsider.user).post(url).status_code == 404
    assert signed_in(world.admin.user).post(url).status_code == 302
