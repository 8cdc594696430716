"""The queue's bulk changes, set-based: assign (undoable), set next action, close. What each
writes matches the one-lead service, and their queries do not grow with the leads."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import ActionKind, Activity, ActivityKind, BulkChange, CloseReason, Lead, Status
from leads.services import (
    bulk_change_undo,
    lead_change_status,
    lead_set_next_action,
    leads_assign_many,
    leads_close_many,
    leads_set_next_action_many,
)
from tests.conftest import World
from tests.factories import MembershipFactory, SiteFactory, StudySiteFactory, many_leads, new_lead
from tests.leads.conftest import actor_of, fresh
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Role


def _selected(leads: list[Lead]) -> list[Lead]:
    """The leads as the queue view reads them for a bulk change."""
    return list(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads])
        .select_related("person", "study_site__site", "owner__user")
        .order_by("id")
    )


def test_bulk_work_costs_the_same_queries_for_3_leads_as_for_2000(world: World):
    actor = actor_of(world)
    counts = []
    for n in (3, 2000):
        owner = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
        leads = _selected(many_leads(study_site=world.study_site_a, owner=owner, n=n))
        wall = datetime(2030, 1, 7, 9, 30)
        with CaptureQueriesContext(connection) as assign:
            leads_assign_many(leads=leads, owner=world.site_lead, actor=actor)
        with CaptureQueriesContext(connection) as next_action:
            leads_set_next_action_many(
                leads=_selected(leads), kind=ActionKind.CALLBACK, wall_clock=wall, actor=actor
            )
        with CaptureQueriesContext(connection) as close:
            leads_close_many(leads=_selected(leads), close_reason="duplicate", actor=actor)
        counts.append((len(assign), len(next_action), len(close)))
        assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], version=4).count() == n

    assert counts[0] == counts[1]
    assert max(counts[1]) <= 12, counts


def test_bulk_assign_writes_owners_timeline_audit_and_an_undoable_change(world: World):
    leads = _selected([new_lead(study_site=world.study_site_a) for _ in range(3)])

    result = leads_assign_many(leads=leads, owner=world.site_lead, actor=actor_of(world))

    assert result.done == 3
    assert not result.failed
    assert {fresh(lead).owner for lead in leads} == {world.site_lead}
    assert {fresh(lead).version for lead in leads} == {2}
    entries = Activity.objects.filter(kind=ActivityKind.ASSIGNMENT, data__version=2)
    assert {e.data["owner"] for e in entries} == {str(world.site_lead.code)}
    audit = AuditEvent.objects.filter(action="lead.assigned")
    assert set(audit.values_list("object_id", flat=True)) == {str(lead.code) for lead in leads}
    assert audit.first().changes == {  # type: ignore[union-attr]
        "owner_id": {"old": world.coordinator.pk, "new": world.site_lead.pk}
    }
    assert result.change is not None
    assert result.change.kind == BulkChange.Kind.ASSIGN

    bulk_change_undo(change=result.change, actor=actor_of(world))

    assert {fresh(lead).owner for lead in leads} == {world.coordinator}


def test_bulk_assign_refuses_each_lead_the_owner_cannot_take(world: World):
    closed = lead_change_status(
        lead=new_lead(study_site=world.study_site_a),
        status=Status.CLOSED,
        close_reason=CloseReason.DUPLICATE,
        actor=actor_of(world),
    )
    unseen = new_lead(study_site=world.study_site_a2)  # the coordinator sees study_site_a only
    fine = new_lead(study_site=world.study_site_a, owner=world.site_lead)

    result = leads_assign_many(
        leads=_selected([closed, unseen, fine]), owner=world.coordinator, actor=actor_of(world)
    )

    reasons = {lead.pk: message for lead, message in result.failed}
    assert reasons[closed.pk] == "Only open leads can be reassigned."
    assert "cannot see this study's leads" in reasons[unseen.pk]
    assert result.done == 1
    assert fresh(unseen).owner == world.site_lead
    assert fresh(fine).owner == world.coordinator


def test_bulk_assign_refuses_another_organizations_member(world: World):
    lead = new_lead(study_site=world.study_site_a)

    with pytest.raises(ValidationError, match="active member of this organization"):
        leads_assign_many(leads=_selected([lead]), owner=world.outsider, actor=actor_of(world))


def test_bulk_next_action_is_what_the_one_lead_service_would_write(world: World):
    # One frozen clock: the three leads move at the same moment.
    with time_machine.travel(timezone.now(), tick=False):
        denver = StudySiteFactory(
            site=SiteFactory(organization=world.org_a, timezone="America/Denver")
        )
        one, other, same = (new_lead(study_site=s) for s in (world.study_site_a, denver, denver))
        wall = (timezone.now() + timedelta(days=2)).replace(tzinfo=None, second=0, microsecond=0)
        twin = lead_set_next_action(
            lead=same,
            kind=ActionKind.CHASE_RECORDS,
            due_at=timezone.make_aware(wall, ZoneInfo("America/Denver")),
            actor=actor_of(world),
        )

        result = leads_set_next_action_many(
            leads=_selected([one, other]),
            kind=ActionKind.CHASE_RECORDS,
            wall_clock=wall,
            actor=actor_of(world),
        )

        assert result.done == 2
        chicago, mountain = fresh(one), fresh(other)
        assert chicago.next_action_due_at == timezone.make_aware(wall, ZoneInfo("America/Chicago"))
        for field in ("next_action", "next_action_due_at", "stale_at", "attention_at", "version"):
            assert getattr(mountain, field) == getattr(twin, field), field
        entry = Activity.objects.filter(lead=other, kind=ActivityKind.NEXT_ACTION).get()
        due = mountain.next_action_due_at
        assert due is not None
        assert entry.data == {
            "kind": ActionKind.CHASE_RECORDS,
            "due_at": due.astimezone(ZoneInfo("America/Denver")).isoformat(),
            "version": 2,
        }
        assert AuditEvent.objects.filter(
            action="lead.next_action_set", object_id=str(other.code)
        ).exists()


def test_bulk_next_action_refuses_a_time_out_of_range_and_closed_leads(world: World):
    closed = lead_change_status(
        lead=new_lead(study_site=world.study_site_a),
        status=Status.CLOSED,
        close_reason=CloseReason.DUPLICATE,
        actor=actor_of(world),
    )
    open_ = new_lead(study_site=world.study_site_a)

    result = leads_set_next_action_many(
        leads=_selected([closed, open_]),
        kind=ActionKind.CALLBACK,
        wall_clock=datetime(2999, 1, 1, 9, 0),
        actor=actor_of(world),
    )

    reasons = {lead.pk: message for lead, message in result.failed}
    assert reasons == {
        closed.pk: "A closed lead has no next action.",
        open_.pk: "Pick a time within five years from now.",
    }
    assert fresh(open_).version == 1


def test_bulk_close_is_what_the_one_lead_service_would_write(world: World):
    leads = _selected([new_lead(study_site=world.study_site_a) for _ in range(2)])
    twin = lead_change_status(
        lead=new_lead(study_site=world.study_site_a),
        status=Status.CLOSED,
        close_reason=CloseReason.NOT_INTERESTED,
        actor=actor_of(world),
    )

    result = leads_close_many(
        leads=leads, close_reason=CloseReason.NOT_INTERESTED, actor=actor_of(world)
    )

    assert result.done == 2
    for lead in map(fresh, leads):
        for field in (
            "status", "close_reason", "next_action", "next_action_due_at", "attention_at",
            "stale_at", "sla_due_at", "version", "owner_id",
        ):  # fmt: skip
            assert getattr(lead, field) == getattr(twin, field), field
        assert lead.closed_at == lead.status_changed_at == lead.last_movement_at
        assert lead.closed_at is not None
    entry = Activity.objects.filter(lead=leads[0], kind=ActivityKind.STATUS_CHANGE).get()
    assert entry.data == {
        "from": Status.NEW,
        "to": Status.CLOSED,
        "close_reason": CloseReason.NOT_INTERESTED,
        "version": 2,
    }
    audit = AuditEvent.objects.get(action="lead.status_changed", object_id=str(leads[0].code))
    assert audit.changes["status"] == {"old": Status.NEW, "new": Status.CLOSED}
