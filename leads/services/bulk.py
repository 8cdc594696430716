"""The queue's bulk changes (assign, set next action, close), set-based: one UPDATE for the
selected leads with their timeline entries, audit rows by COPY in a batch per group of leads
that change alike. Each lead is refused on its own, with the reason the one-lead service gives.

Each is recorded as an undoable BulkChange: assigning as a change of owners
(leads/services/reassignment.py), closing and setting a next action with each lead's fields
before the change (leads/services/bulk_undo.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from leads.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    ActionKind,
    ActivityKind,
    BulkChange,
    CloseReason,
    Lead,
    Policy,
    Status,
)
from leads.services.bulk_undo import SNAPSHOT
from leads.services.leads import check_due_time, transition_refused
from leads.services.reassignment import owners_change
from trialsnest.audit.services import Actor, audit_record, audit_record_many
from trialsnest.tenancy.models import Membership
from trialsnest.tenancy.selectors import visible_study_sites

_OPEN = [str(status) for status in OPEN_STATUSES]
# The statuses a lead may be closed from (DESIGN.md's status table).
_CLOSABLE = [str(status) for status, moves in TRANSITIONS.items() if Status.CLOSED in moves]


@dataclass
class BulkResult:
    done: int = 0
    failed: list[tuple[Lead, str]] = field(default_factory=list)
    change: BulkChange | None = None


@transaction.atomic
def leads_assign_many(*, leads: Sequence[Lead], owner: Membership, actor: Actor) -> BulkResult:
    """Give the selected leads to `owner`, who must be able to see each one's study."""
    result = BulkResult()
    if not owner.is_active or any(lead.organization_id != owner.organization_id for lead in leads):
        raise ValidationError({"owner": "Pick an active member of this organization."})
    seen = set(
        visible_study_sites(owner)
        .filter(id__in={lead.study_site_id for lead in leads})
        .values_list("id", flat=True)
    )
    moving: list[Lead] = []
    for lead in leads:
        if not lead.is_open:
            result.failed.append((lead, "Only open leads can be reassigned."))
        elif lead.study_site_id not in seen:
            result.failed.append(
                (lead, f"{owner.user} cannot see this study's leads; pick someone who can.")
            )
        elif lead.owner_id == owner.pk:
            result.done += 1
        else:
            moving.append(lead)
    if moving:
        result.change, written = owners_change(
            kind=BulkChange.Kind.ASSIGN,
            organization_id=owner.organization_id,
            lead_ids=[lead.pk for lead in moving],
            owner_ids=[owner.pk] * len(moving),
            actor=actor,
            to_owner=owner,
        )
        result.done += len(written)
        _missed(result, moving, written)
    return result


def bulk_plan(*, leads: Sequence[Lead], action: str) -> tuple[int, int]:
    """How many of the selected leads a close or a next-action change would change, and how
    many it would leave as they are (what the confirmation says; nothing is written)."""
    if action == BulkChange.Kind.CLOSE:
        changing = sum(1 for lead in leads if lead.status in _CLOSABLE)
    else:
        changing = sum(1 for lead in leads if lead.is_open)
    return changing, len(leads) - changing


def _missed(result: BulkResult, moving: Sequence[Lead], written: set[str]) -> None:
    """Leads that passed the checks but were closed or moved before their row was locked."""
    for lead in moving:
        if str(lead.code) not in written:
            result.failed.append((lead, "Changed by someone else meanwhile; try again."))


# Each changed lead's state before the change, for its undo (owners stay as they are).
_KEPT = """
    kept AS (
        INSERT INTO leads_bulkchangelead
            (change_id, lead_id, previous_owner_id, owner_id, version, previous)
        SELECT %(change)s, id, owner_id, owner_id, version, before FROM moved
    )"""

_SET_NEXT_ACTION = f"""
    WITH plan AS (
        SELECT * FROM unnest(%(leads)s::bigint[], %(due)s::timestamptz[], %(iso)s::text[])
            AS p(lead_id, due_at, due_iso)
    ),
    locked AS (
        SELECT l.id, l.next_action AS previous, plan.due_at, plan.due_iso, {SNAPSHOT} AS before
        FROM leads_lead l JOIN plan ON plan.lead_id = l.id
        WHERE l.status = ANY(%(open)s)
        ORDER BY l.id
        FOR UPDATE OF l
    ),
    moved AS (
        -- refresh_attention, set-based: stale after the StudySite's period without movement,
        -- attention at the sooner of the due time and that.
        UPDATE leads_lead l SET
            next_action = %(kind)s, next_action_due_at = locked.due_at,
            stale_at = l.last_movement_at + make_interval(days => p.stale_after_days),
            attention_at = LEAST(
                locked.due_at, l.last_movement_at + make_interval(days => p.stale_after_days)
            ),
            version = l.version + 1
        FROM locked, leads_policy p
        WHERE l.id = locked.id AND p.study_site_id = l.study_site_id
        RETURNING l.id, l.code, l.organization_id, l.owner_id, l.version, locked.previous,
                  locked.due_iso, locked.before
    ),
    {_KEPT},
    timeline AS (
        INSERT INTO leads_activity
            (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome, text, data)
        SELECT organization_id, id, %(activity)s, %(now)s, %(actor)s, '', '', '', '',
               jsonb_build_object('kind', %(kind)s::text, 'due_at', due_iso, 'version', version)
        FROM moved
    )
    SELECT code::text, previous, due_iso FROM moved
"""  # noqa: S608  (constant SQL: the snapshot and kept parts are constants too)


@transaction.atomic
def leads_set_next_action_many(
    *, leads: Sequence[Lead], kind: str, wall_clock: datetime, actor: Actor
) -> BulkResult:
    """Set one next action on the selected leads, due at `wall_clock` (naive) on each lead's
    site clock, as the one-lead form reads it."""
    if kind not in ActionKind.values:
        raise ValidationError({"kind": "Pick a next action."})
    result = BulkResult()
    due_of: dict[str, datetime | None] = {}
    iso_of: dict[str, str] = {}
    for lead in leads:
        tz = lead.study_site.site.timezone
        if tz not in due_of:
            due = timezone.make_aware(wall_clock.replace(tzinfo=None), ZoneInfo(tz))
            try:
                check_due_time(due)
            except ValidationError as error:
                due_of[tz], iso_of[tz] = None, " ".join(error.messages)
            else:
                due_of[tz], iso_of[tz] = due, due.isoformat()
    moving: list[Lead] = []
    for lead in leads:
        tz = lead.study_site.site.timezone
        if not lead.is_open:
            result.failed.append((lead, "A closed lead has no next action."))
        elif due_of[tz] is None:
            result.failed.append((lead, iso_of[tz]))
        else:
            moving.append(lead)
    if not moving:
        return result
    _ensure_policies({lead.study_site_id for lead in moving})
    change = _change_begin(
        BulkChange.Kind.NEXT_ACTION,
        moving[0].organization_id,
        actor,
        f"{ActionKind(kind).label}, due {wall_clock:%Y-%m-%d %H:%M} site time",
    )
    rows = _run(
        _SET_NEXT_ACTION,
        change=change.pk,
        leads=[lead.pk for lead in moving],
        due=[due_of[lead.study_site.site.timezone] for lead in moving],
        iso=[iso_of[lead.study_site.site.timezone] for lead in moving],
        open=_OPEN,
        kind=kind,
        activity=ActivityKind.NEXT_ACTION,
        now=timezone.now(),
        actor=actor.user.pk if actor.user else None,
    )
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for code, previous, due_iso in rows:
        groups[previous, due_iso].append(code)
    for (previous, due_iso), codes in groups.items():
        _audit(
            "lead.next_action_set",
            codes,
            leads[0].organization_id,
            actor,
            {"next_action": {"old": previous, "new": kind}, "next_action_due_at": {"new": due_iso}},
        )
    result.done = len(rows)
    result.change = _change_done(change, len(rows), actor)
    _missed(result, moving, {code for code, _, _ in rows})
    return result


_CLOSE = f"""
    WITH locked AS (
        SELECT l.id, l.status AS previous, l.next_action AS previous_action, {SNAPSHOT} AS before
        FROM leads_lead l
        WHERE l.id = ANY(%(leads)s::bigint[]) AND l.status = ANY(%(closable)s)
        ORDER BY l.id
        FOR UPDATE OF l
    ),
    moved AS (
        -- lead_change_status to closed: the milestone stamped, no next action, off the queue.
        UPDATE leads_lead l SET
            status = %(closed)s, close_reason = %(reason)s,
            status_changed_at = %(now)s, last_movement_at = %(now)s, closed_at = %(now)s,
            next_action = '', next_action_due_at = NULL,
            attention_at = NULL, stale_at = NULL, sla_due_at = NULL, stale_marked_at = NULL,
            version = l.version + 1
        FROM locked WHERE l.id = locked.id
        RETURNING l.id, l.code, l.organization_id, l.owner_id, l.version, locked.previous,
                  locked.previous_action, locked.before
    ),
    {_KEPT},
    timeline AS (
        INSERT INTO leads_activity
            (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome, text, data)
        SELECT organization_id, id, %(activity)s, %(now)s, %(actor)s, '', '', '', '',
               jsonb_build_object('from', previous, 'to', %(closed)s::text,
                                  'close_reason', %(reason)s::text, 'version', version)
        FROM moved
    )
    SELECT code::text, previous, previous_action FROM moved
"""  # noqa: S608  (constant SQL: the snapshot and kept parts are constants too)


@transaction.atomic
def leads_close_many(*, leads: Sequence[Lead], close_reason: str, actor: Actor) -> BulkResult:
    if close_reason not in CloseReason.values:
        raise ValidationError({"close_reason": "Say why the leads are closed."})
    result = BulkResult()
    moving: list[Lead] = []
    for lead in leads:
        if lead.status in _CLOSABLE:
            moving.append(lead)
        else:
            result.failed.append((lead, transition_refused(lead.status, Status.CLOSED)))
    if not moving:
        return result
    change = _change_begin(
        BulkChange.Kind.CLOSE,
        moving[0].organization_id,
        actor,
        f"as {CloseReason(close_reason).label}",
    )
    rows = _run(
        _CLOSE,
        change=change.pk,
        leads=[lead.pk for lead in moving],
        closable=_CLOSABLE,
        closed=Status.CLOSED,
        reason=close_reason,
        activity=ActivityKind.STATUS_CHANGE,
        now=timezone.now(),
        actor=actor.user.pk if actor.user else None,
    )
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for code, previous, previous_action in rows:
        groups[previous, previous_action].append(code)
    for (previous, previous_action), codes in groups.items():
        _audit(
            "lead.status_changed",
            codes,
            leads[0].organization_id,
            actor,
            {
                "close_reason": {"old": "", "new": close_reason},
                "next_action": {"old": previous_action, "new": ""},
                "status": {"old": previous, "new": Status.CLOSED},
            },
        )
    result.done = len(rows)
    result.change = _change_done(change, len(rows), actor)
    _missed(result, moving, {code for code, _, _ in rows})
    return result


def _change_begin(kind: str, organization_id: int, actor: Actor, detail: str) -> BulkChange:
    return BulkChange.objects.create(
        organization_id=organization_id, kind=kind, actor=actor.user, detail=detail
    )


def _change_done(change: BulkChange, count: int, actor: Actor) -> BulkChange:
    change.lead_count = count
    change.save(update_fields=["lead_count"])
    audit_record(
        action="bulk_change.created",
        actor=actor.user,
        organization_id=change.organization_id,
        obj=change,
        changes={
            "kind": {"old": None, "new": change.kind},
            "leads": {"old": 0, "new": count},
            "detail": {"old": None, "new": change.detail},
        },
        request=actor.request,
    )
    return change


def _ensure_policies(study_site_ids: set[int]) -> None:
    """Every StudySite gets its policy row (the defaults) before a statement joins it."""
    Policy.objects.bulk_create(
        [Policy(study_site_id=pk) for pk in sorted(study_site_ids)], ignore_conflicts=True
    )


def _run(sql: str, **params: Any) -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(str(a), str(b), str(c)) for a, b, c in cursor.fetchall()]


def _audit(
    action: str, codes: list[str], organization_id: int, actor: Actor, changes: dict[str, Any]
) -> None:
    audit_record_many(
        action=action,
        actor_id=actor.user.pk if actor.user else None,
        organization_id=organization_id,
        object_type="lead",
        object_ids=codes,
        changes=changes,
        reason="Bulk change from the queue",
    )
