"""Undoing a bulk change for BulkChange.UNDO_PERIOD: owners given back (reassignment.py), or
the state a queue close or next-action change overwrote put back, set-based like the change.

A close or next-action change keeps each lead's fields before it (SNAPSHOT, in the
BulkChangeLead row); an undo writes them back to every lead still at the version the change
left it at. A lead changed since keeps what happened to it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from leads.models import ActivityKind, BulkChange
from leads.services.reassignment import Undone, owners_restore
from trialsnest.audit.services import Actor, audit_record, audit_record_each

# The lead's fields a close or a next-action change may overwrite, with their SQL types.
_FIELDS = [
    ("status", "text"),
    ("close_reason", "text"),
    ("next_action", "text"),
    ("next_action_due_at", "timestamptz"),
    ("attention_at", "timestamptz"),
    ("stale_at", "timestamptz"),
    ("sla_due_at", "timestamptz"),
    ("closed_at", "timestamptz"),
    ("status_changed_at", "timestamptz"),
    ("last_movement_at", "timestamptz"),
    ("snoozed_until", "timestamptz"),
    ("stale_marked_at", "timestamptz"),  # absent from changes made before it was kept: NULL
]
# The fields an audit row names (the others follow from them).
_AUDITED = ["status", "close_reason", "next_action", "next_action_due_at"]

# Those fields of the lead `l`, as one jsonb value (kept in BulkChangeLead.previous).
SNAPSHOT = "jsonb_build_object({})".format(", ".join(f"'{name}', l.{name}" for name, _ in _FIELDS))
_PUT_BACK = ", ".join(f"{name} = (locked.previous->>'{name}')::{kind}" for name, kind in _FIELDS)

_RESTORE = f"""
    WITH locked AS (
        SELECT l.id, i.previous, {SNAPSHOT} AS current
        FROM leads_bulkchangelead i JOIN leads_lead l ON l.id = i.lead_id
        WHERE i.change_id = %(change)s AND l.version = i.version
        ORDER BY l.id
        FOR UPDATE OF l
    ),
    moved AS (
        UPDATE leads_lead l SET {_PUT_BACK}, version = l.version + 1
        FROM locked WHERE l.id = locked.id
        RETURNING l.id, l.code, l.organization_id, l.version, l.status, l.next_action,
                  l.next_action_due_at, locked.current, locked.previous
    ),
    timeline AS (
        INSERT INTO leads_activity
            (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome, text, data)
        SELECT organization_id, id, %(activity)s, %(now)s, %(actor)s, '', '', '', '',
               jsonb_build_object('from', current->>'status', 'to', status,
                                  'kind', next_action, 'due_at', next_action_due_at,
                                  'version', version, 'undo_of', %(change_code)s::text)
        FROM moved
    )
    SELECT code::text, current, previous FROM moved
"""  # noqa: S608  (constant SQL built from the constant field list above)


@transaction.atomic
def bulk_change_undo(*, change: BulkChange, actor: Actor) -> Undone:
    """Undo a bulk change within its period, once: what each lead had before it comes back,
    unless the lead was changed since (or, for owners, the previous one cannot hold it)."""
    change = BulkChange.objects.select_for_update().get(pk=change.pk)
    if change.undone_at is not None:
        raise ValidationError(f"This change was already undone on {change.undone_at:%Y-%m-%d}.")
    now = timezone.now()
    if now - change.created_at > BulkChange.UNDO_PERIOD:
        kept = "current owners" if change.changes_owners else "current state"
        raise ValidationError(
            f"A bulk change can be undone for {BulkChange.UNDO_PERIOD.days} days; this one was "
            f"made on {change.created_at:%Y-%m-%d}, so its leads keep their {kept}."
        )
    if change.changes_owners:
        result = owners_restore(change=change, actor=actor, now=now)
    else:
        result = _states_restore(change=change, actor=actor, now=now)
    change.undone_at, change.undone_by, change.restored = now, actor.user, result.restored
    change.save(update_fields=["undone_at", "undone_by", "restored"])
    audit_record(
        action="bulk_change.undone",
        actor=actor.user,
        organization_id=change.organization_id,
        obj=change,
        changes={"restored": {"old": 0, "new": result.restored}},
        request=actor.request,
    )
    return result


def _states_restore(*, change: BulkChange, actor: Actor, now: Any) -> Undone:
    closing = change.kind == BulkChange.Kind.CLOSE
    with connection.cursor() as cursor:
        cursor.execute(
            _RESTORE,
            {
                "change": change.pk,
                "change_code": str(change.code),
                "activity": ActivityKind.STATUS_CHANGE if closing else ActivityKind.NEXT_ACTION,
                "now": now,
                "actor": actor.user.pk if actor.user else None,
            },
        )
        # Django reads jsonb as text (its JSONField decodes it).
        rows = [(code, json.loads(now_), json.loads(then)) for code, now_, then in cursor]
    audit_record_each(
        action="lead.status_changed" if closing else "lead.next_action_set",
        actor_id=actor.user.pk if actor.user else None,
        organization_id=change.organization_id,
        object_type="lead",
        changes=(
            (
                str(code),
                {
                    name: {"old": current[name], "new": previous[name]}
                    for name in _AUDITED
                    if current[name] != previous[name]
                },
            )
            for code, current, previous in rows
        ),
        reason=f"Undo of {change.code}",
    )
    return Undone(restored=len(rows), changed_since=change.lead_count - len(rows), owner_left=0)
