"""The stale-lead sweep: open leads without movement for their StudySite's stale period are
marked stale, with the reason, and given the next action "Stale review" (the Stale tab is the
site lead's review of them). Any movement clears the mark (refresh_attention).

Set-based over the whole table, in batches: each batch is one statement that takes up to BATCH
unmarked leads past stale_at, in stale_at order, from a partial index of exactly those
(lead_stale_due), locks them
(skipping any a person holds: the next run takes them), updates them, appends their timeline
entries and returns what the audit rows need. Marked leads leave the index, so the daily run
reads only the day's increment. Never a loop per lead.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from leads.models import OPEN_STATUSES, ActionKind, ActivityKind, Blocker
from trialsnest.audit.services import audit_record_each
from trialsnest.ops.jobs import JobCounts, job_run

BATCH = 5_000

_SWEEP = """
    WITH due AS (
        SELECT l.id FROM leads_lead l
        WHERE l.status = ANY(%(open)s) AND l.stale_at <= %(now)s AND l.stale_marked_at IS NULL
          AND l.blocker <> %(paused)s
          AND (l.snoozed_until IS NULL OR l.snoozed_until <= %(now)s)
          AND (l.stale_at, l.id) > (%(after_at)s, %(after)s)
        ORDER BY l.stale_at, l.id
        LIMIT %(batch)s
        FOR UPDATE OF l SKIP LOCKED
    ),
    moved AS (
        UPDATE leads_lead l SET
            stale_marked_at = %(now)s,
            next_action = %(kind)s, next_action_due_at = %(now)s, attention_at = %(now)s,
            version = l.version + 1
        FROM due
        WHERE l.id = due.id
        RETURNING l.id, l.code, l.organization_id, l.version, l.stale_at,
                  (SELECT p.stale_after_days FROM leads_policy p
                   WHERE p.study_site_id = l.study_site_id) AS days
    ),
    timeline AS (
        INSERT INTO leads_activity
            (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome, text, data)
        SELECT organization_id, id, %(activity)s, %(now)s, NULL, '', '', '', '',
               jsonb_build_object('kind', %(kind)s::text, 'due_at', %(now_iso)s::text,
                                  'reason', 'stale', 'days', days, 'version', version)
        FROM moved
    )
    SELECT organization_id, code::text, days, stale_at, id FROM moved
"""


def stale_sweep(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Mark every lead that turned stale by `now`; returns how many were marked."""
    now = now or timezone.now()
    marked = 0
    with job_run("stale_sweep") as counts:
        counts.touch("marked_stale")
        after: tuple[datetime | str, int] = ("-infinity", 0)
        while True:
            done, last = _sweep_batch(now=now, after=after, batch=batch, counts=counts)
            marked += done
            if last is None:
                break
            after = last  # past the leads skipped (locked, snoozed or paused) of this batch
    return marked


@transaction.atomic
def _sweep_batch(
    *, now: datetime, after: tuple[datetime | str, int], batch: int, counts: JobCounts
) -> tuple[int, tuple[datetime, int] | None]:
    """Mark one batch; (how many, the last (stale_at, id) marked, or None when none was)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SWEEP,
            {
                "after_at": after[0],
                "after": after[1],
                "batch": batch,
                "open": list(OPEN_STATUSES),
                "now": now,
                "now_iso": now.isoformat(),
                "paused": Blocker.STUDY_PAUSED,
                "kind": ActionKind.STALE_REVIEW,
                "activity": ActivityKind.NEXT_ACTION,
            },
        )
        rows = cursor.fetchall()
    by_org: dict[int, list[tuple[str, dict[str, object]]]] = {}
    for organization_id, code, days, _at, _id in rows:
        by_org.setdefault(organization_id, []).append(
            (code, {"next_action": {"new": ActionKind.STALE_REVIEW}, "stale_days": {"new": days}})
        )
    for organization_id, changes in by_org.items():
        counts.add("marked_stale", organization_id, len(changes))
        audit_record_each(
            action="lead.marked_stale",
            actor_id=None,
            organization_id=organization_id,
            object_type="lead",
            changes=changes,
            reason="No movement for the StudySite's stale period",
        )
    return len(rows), max(((row[3], row[4]) for row in rows), default=None)
