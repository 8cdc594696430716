"""The queue's bulk close and bulk next action: a confirmation that says how many leads and what
happens, then an undo for BulkChange.UNDO_PERIOD that puts back what the change overwrote."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from leads.models import ActionKind, Activity, ActivityKind, BulkChange, CloseReason, Lead, Status
from leads.services import lead_change_status, lead_snooze
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, new_lead
from tests.leads.conftest import actor_of, fresh
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Role

QUEUE = "/queue/?tab=open"


def text(response: Any) -> str:
    """The page's words, without tags or repeated spaces."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def raw(response: Any) -> str:
    return html.unescape(response.content.decode())


def _post(client: Client, leads: list[Lead], **data: str) -> Any:
    return client.post(
        reverse("queue_bulk"),
        {"leads": [str(lead.code) for lead in leads], "next": QUEUE, **data},
        follow=True,
    )


def _state(lead: Lead) -> tuple[Any, ...]:
    lead = fresh(lead)
    return (
        lead.status,
        lead.close_reason,
        lead.next_action,
        lead.next_action_due_at,
        lead.attention_at,
        lead.stale_at,
        lead.sla_due_at,
        lead.closed_at,
        lead.last_movement_at,
        lead.snoozed_until,
        lead.stale_marked_at,
    )


def _undo_url(change: BulkChange) -> str:
    return reverse("queue_change_undo", kwargs={"code": change.code})


def _backdate(change: BulkChange, by: timedelta) -> None:
    BulkChange.objects.filter(pk=change.pk).update(created_at=change.created_at - by)


# The confirmation --------------------------------------------------------------------------


def test_closing_asks_first_saying_how_many_leads_close_and_changes_nothing(world: World):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(3)]
    done = lead_change_status(
        lead=new_lead(study_site=world.study_site_a),
        status=Status.CLOSED,
        close_reason=CloseReason.DUPLICATE,
        actor=actor_of(world),
    )
    before = [_state(lead) for lead in leads]
    client = signed_in(world.coordinator.user)
    audited = AuditEvent.objects.count()

    response = _post(
        client,
        [*leads, done],
        action="close",
        close_reason=CloseReason.NOT_INTERESTED,
    )

    assert response.status_code == 200
    assert response.redirect_chain == []
    body = text(response)
    assert "3 leads will be closed as Not interested" in body
    assert "they leave the queue and their next action is cleared" in body
    assert "1 selected lead is already closed or handed off and will stay as it is." in body
    assert "Close 3 leads</button>" in raw(response)
    assert [_state(lead) for lead in leads] == before
    assert fresh(done).close_reason == CloseReason.DUPLICATE
    assert not BulkChange.objects.exists()
    assert AuditEvent.objects.count() == audited


def test_setting_a_next_action_asks_first_with_the_count_the_action_and_the_due_time(
    world: World,
):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(2)]
    before = [_state(lead) for lead in leads]

    response = _post(
        signed_in(world.coordinator.user),
        leads,
        action="next_action",
        kind=ActionKind.CALLBACK,
        due_at="2030-01-08T09:30",
    )

    body = text(response)
    assert "2 leads will get the next action Callback, due Tue 8 Jan 2030, 09:30" in body
    assert "on each lead's site clock" in body
    assert 'name="due_at" value="2030-01-08T09:30"' in response.content.decode()
    assert [_state(lead) for lead in leads] == before
    assert not BulkChange.objects.exists()


# Confirmed, then undone ---------------------------------------------------------------------


def test_a_confirmed_close_offers_an_undo_that_restores_status_reason_and_next_action(
    world: World,
):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(3)]
    lead_change_status(lead=leads[0], status=Status.CONTACTING, actor=actor_of(world))
    lead_snooze(
        lead=fresh(leads[1]),
        until=fresh(leads[1]).received_at + timedelta(days=2),
        actor=actor_of(world),
    )
    marked = timezone.now() - timedelta(hours=1)  # the sweep found the third one stale
    Lead.objects.filter(pk=leads[2].pk).update(stale_marked_at=marked)
    before = [_state(lead) for lead in leads]
    versions = [fresh(lead).version for lead in leads]
    client = signed_in(world.coordinator.user)

    closed = _post(
        client, leads, action="close", close_reason=CloseReason.UNREACHABLE, confirmed="1"
    )
    assert fresh(leads[2]).stale_marked_at is None  # closed as one by one: no longer stale

    change = BulkChange.objects.get()
    assert (change.kind, change.lead_count, change.actor) == (
        BulkChange.Kind.CLOSE,
        3,
        world.coordinator.user,
    )
    assert closed.redirect_chain == [(QUEUE, 302)]
    assert "3 of 3 leads updated." in text(closed)
    assert f"{reverse('queue_change', kwargs={'code': change.code})}?next=" in raw(closed)
    assert {(fresh(lead).status, fresh(lead).close_reason) for lead in leads} == {
        (Status.CLOSED, CloseReason.UNREACHABLE)
    }

    page = client.get(reverse("queue_change", kwargs={"code": change.code}), {"next": QUEUE})
    assert "Bulk close of 3 leads" in text(page)
    assert _undo_url(change) in raw(page)
    undone = client.post(_undo_url(change), {"next": QUEUE}, follow=True)

    assert undone.redirect_chain == [(QUEUE, 302)]
    assert "Put 3 leads back as they were before they were closed." in text(undone)
    assert [_state(lead) for lead in leads] == before
    assert [fresh(lead).version for lead in leads] == [v + 2 for v in versions]
    audit = AuditEvent.objects.filter(action="lead.status_changed", reason=f"Undo of {change.code}")
    assert audit.count() == 3
    changes = audit.get(object_id=str(leads[0].code)).changes
    # A time is kept as ISO text, trailing zeros of its microseconds dropped: compare times.
    due = changes.pop("next_action_due_at")
    assert due["old"] is None
    assert datetime.fromisoformat(due["new"]) == before[0][3]
    assert changes == {
        "status": {"old": Status.CLOSED, "new": Status.CONTACTING},
        "close_reason": {"old": CloseReason.UNREACHABLE, "new": ""},
        "next_action": {"old": "", "new": fresh(leads[0]).next_action},
    }
    entry = Activity.objects.filter(lead=leads[0], kind=ActivityKind.STATUS_CHANGE).latest("id")
    assert (entry.data["from"], entry.data["to"], entry.data["undo_of"]) == (
        Status.CLOSED,
        Status.CONTACTING,
        str(change.code),
    )
    change.refresh_from_db()
    assert (change.undone_by, change.restored) == (world.coordinator.user, 3)
    # Undone once: the page offers it no more, and a second undo is refused.
    assert _undo_url(change) not in raw(client.get(reverse("queue_change", args=[change.code])))
    assert "already undone" in text(client.post(_undo_url(change), follow=True))


def test_undo_of_a_bulk_next_action_restores_each_leads_own_next_action(world: World):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(2)]
    before = [_state(lead) for lead in leads]
    client = signed_in(world.site_lead.user)
    _post(
        client,
        leads,
        action="next_action",
        kind=ActionKind.CHASE_RECORDS,
        due_at="2030-01-08T09:30",
        confirmed="1",
    )
    assert {fresh(lead).next_action for lead in leads} == {ActionKind.CHASE_RECORDS}
    change = BulkChange.objects.get(kind=BulkChange.Kind.NEXT_ACTION)
    assert change.detail == "Chase records, due 2030-01-08 09:30 site time"

    undone = client.post(_undo_url(change), follow=True)

    assert "Put 2 leads back as they were before they were given a next action." in text(undone)
    assert [_state(lead) for lead in leads] == before
    entry = Activity.objects.filter(lead=leads[0], kind=ActivityKind.NEXT_ACTION).latest("id")
    assert entry.data["kind"] == before[0][2]


def test_undo_leaves_a_lead_changed_since_and_says_so(world: World):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(2)]
    client = signed_in(world.site_lead.user)
    _post(client, leads, action="close", close_reason=CloseReason.DUPLICATE, confirmed="1")
    reopened = lead_change_status(
        lead=fresh(leads[0]), status=Status.CONTACTING, reason="Called back", actor=actor_of(world)
    )

    undone = client.post(_undo_url(BulkChange.objects.get()), follow=True)

    assert "Put 1 leads back" in text(undone)
    assert "1 were changed since and keep their current state." in text(undone)
    assert fresh(leads[0]).status == Status.CONTACTING
    assert fresh(leads[0]).version == reopened.version
    assert fresh(leads[1]).status == Status.NEW


def test_undo_after_the_period_is_refused_with_a_message(world: World):
    lead = new_lead(study_site=world.study_site_a)
    client = signed_in(world.coordinator.user)
    _post(client, [lead], action="close", close_reason=CloseReason.DUPLICATE, confirmed="1")
    change = BulkChange.objects.get()
    _backdate(change, BulkChange.UNDO_PERIOD + timedelta(minutes=1))

    page = client.get(reverse("queue_change", kwargs={"code": change.code}))
    late = client.post(_undo_url(change), follow=True)

    assert "can no longer be undone" in text(page)
    assert _undo_url(change) not in raw(page)
    assert "A bulk change can be undone for 7 days" in text(late)
    assert "so its leads keep their current state." in text(late)
    assert fresh(lead).status == Status.CLOSED
    assert BulkChange.objects.get().undone_at is None


def test_another_organizations_bulk_change_is_a_404_and_stays(world: World):
    lead = new_lead(study_site=world.study_site_a)
    _post(
        signed_in(world.coordinator.user),
        [lead],
        action="close",
        close_reason=CloseReason.DUPLICATE,
        confirmed="1",
    )
    change = BulkChange.objects.get()
    outsider = signed_in(world.outsider.user)

    assert outsider.get(reverse("queue_change", kwargs={"code": change.code})).status_code == 404
    assert outsider.post(_undo_url(change)).status_code == 404
    assert (
        signed_in(world.outsider.user)
        .post(reverse("team_undo", kwargs={"code": change.code}))
        .status_code
        == 404
    )
    assert fresh(lead).status == Status.CLOSED


def test_a_coordinator_cannot_undo_a_colleagues_change_but_a_site_lead_can(world: World):
    lead = new_lead(study_site=world.study_site_a)
    _post(
        signed_in(world.coordinator.user),
        [lead],
        action="close",
        close_reason=CloseReason.DUPLICATE,
        confirmed="1",
    )
    change = BulkChange.objects.get()
    colleague = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)

    assert signed_in(colleague.user).post(_undo_url(change)).status_code == 404
    assert fresh(lead).status == Status.CLOSED
    team = text(signed_in(world.site_lead.user).get(reverse("team")))
    assert "Bulk close · as Duplicate" in team
    undone = signed_in(world.site_lead.user).post(
        reverse("team_undo", kwargs={"code": change.code}), follow=True
    )
    assert "Put 1 leads back" in text(undone)
    assert fresh(lead).status == Status.NEW
