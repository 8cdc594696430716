"""The stale-lead sweep: open leads without movement for their StudySite's stale period are
marked stale, with the reason, and given the next action "Stale review" (the Stale tab is the
site lead's review of them). Any movement clears the mark (refresh_attention).

Set-based over the whole table, in batches, never a loop per lead:
- one read finds the leads due (from lead_stale_due, a partial index of exactly the unmarked open
  leads, so the daily run reads only the day's increment) and sorts them by their place on disk;
- each batch is then one statement over BATCH of those places, in disk order, as a bare UPDATE
  of the table walks it (stale_at order touched pages at random: 2x the time). It re-checks the
  condition, locks the leads (skipping any a person holds: the next run takes them), updates
  them, and appends their timeline entries and audit events in the same statement.
A lead that moved between the read and its batch is no longer at its place (or no longer due):
it is left for the next run, which is what a person's lock gets too.
"""

from __future__ import annotations

from array import array
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leads.models import OPEN_STATUSES, ActionKind, ActivityKind, Blocker
from trialsnest.audit.services import audit_insert
from trialsnest.ops.jobs import JobCounts, job_run

BATCH = 5_000

_DUE = """l.status = ANY(%(open)s) AND l.stale_at <= %(now)s AND l.stale_marked_at IS NULL
    AND l.blocker <> %(paused)s AND (l.snoozed_until IS NULL OR l.snoozed_until <= %(now)s)"""

# A place on disk (block, line) packed into one integer: 8 bytes a lead, not a string each.
_FIND = f"""
    SELECT ((l.ctid::text::point)[0]::bigint << 16) + (l.ctid::text::point)[1]::bigint
    FROM leads_lead l WHERE {_DUE} ORDER BY l.ctid
"""  # noqa: S608 (constants, no input)

# One audit event per lead marked, written by the batch's own statement.
_AUDIT = audit_insert("""
    SELECT %(now)s, NULL, organization_id, 'lead.marked_stale', 'lead', code::text,
           jsonb_build_object('next_action', jsonb_build_object('new', %(kind)s::text),
                              'stale_days', jsonb_build_object('new', days)),
           %(reason)s, NULL
    FROM moved""")

_SWEEP = f"""
    WITH due AS (
        SELECT l.id FROM leads_lead l
        WHERE l.ctid = ANY(%(places)s::tid[]) AND {_DUE}
        FOR UPDATE OF l SKIP LOCKED
    ),
    moved AS (
        UPDATE leads_lead l SET
            stale_marked_at = %(now)s,
            next_action = %(kind)s, next_action_due_at = %(now)s, attention_at = %(now)s,
            version = l.version + 1
        FROM due
        WHERE l.id = due.id
        RETURNING l.id, l.code, l.organization_id, l.version,
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
    ),
    audit AS (
        {_AUDIT}
    )
    SELECT organization_id, count(*) FROM moved GROUP BY organization_id
"""  # noqa: S608 (constants, no input)

REASON = "No movement for the StudySite's stale period"


def stale_sweep(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Mark every lead that turned stale by `now`; returns how many were marked."""
    now = now or timezone.now()
    params: dict[str, Any] = {
        "open": list(OPEN_STATUSES),
        "now": now,
        "now_iso": now.isoformat(),
        "paused": Blocker.STUDY_PAUSED,
        "kind": ActionKind.STALE_REVIEW,
        "activity": ActivityKind.NEXT_ACTION,
        "reason": REASON,
    }
    marked = 0
    with job_run("stale_sweep") as counts:
        counts.touch("marked_stale")
        with connection.cursor() as cursor:
            cursor.execute(_FIND, params)
            places = array("q", (row[0] for row in cursor.fetchall()))
        for start in range(0, len(places), batch):
            chunk = [f"({p >> 16},{p & 0xFFFF})" for p in places[start : start + batch]]
            marked += _sweep_batch(params={**params, "places": chunk}, counts=counts)
    return marked


@transaction.atomic
def _sweep_batch(*, params: dict[str, Any], counts: JobCounts) -> int:
    """Mark the leads at one batch of places that are still due; how many were marked."""
    with connection.cursor() as cursor:
        cursor.execute(_SWEEP, params)
        by_org = cursor.fetchall()
    for organization_id, n in by_org:
        counts.add("marked_stale", organization_id, n)
    return sum(n for _, n in by_org)
