"""Keeping the cohort rollups (reporting.models.DailyCohort) equal to a count over the leads.

One SQL statement computes the cohorts of a set of leads; the nightly rebuild runs it over every
lead of an organization, the incremental refresh over the cohorts of the leads that just moved.
Both are set-based: no Python loop per lead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from leads.models import Lead
from reporting.models import FIRST_CONTACT_BUCKETS, CohortWatermark

# A move committed a little after its last_movement_at was set is still read by the next run.
OVERLAP = timedelta(minutes=5)

_OPEN = "l.status NOT IN ('handed_off', 'closed')"
_HOURS = "extract(epoch FROM l.first_contact_at - l.received_at) / 3600.0"
_BUCKETS = ", ".join(
    f"count(*) FILTER (WHERE l.first_contact_at IS NOT NULL AND "
    f"width_bucket({_HOURS}, ARRAY[{', '.join(map(str, FIRST_CONTACT_BUCKETS))}]::float8[]) = {i})"
    for i in range(len(FIRST_CONTACT_BUCKETS) + 1)
)
_COHORT = "(l.received_at AT TIME ZONE 'UTC')::date"

# Built from constants of this module only; values are always bound parameters. `{leads}` is
# where the leads come from (as `l`), `{where}` which of them count. Rows are written in the
# key's order, so a rebuild keeps a StudySite's days together on disk: the dashboard reads
# 90 days of them (7,000 rows from 100 pages rather than 5,000 scattered ones, 1 ms not 15).
_INSERT = f"""
INSERT INTO reporting_dailycohort (
    organization_id, study_site_id, source, day, received, contacted, prescreened,
    records_ready, scheduled, handed_off, closed, open, sla_missed, stale,
    first_contact_hours, refreshed_at
)
SELECT l.organization_id, l.study_site_id, l.source, {_COHORT},
    count(*), count(l.first_contact_at), count(l.prescreened_at), count(l.records_ready_at),
    count(l.scheduled_at), count(l.handed_off_at),
    count(*) FILTER (WHERE l.status = 'closed'),
    count(*) FILTER (WHERE {_OPEN}),
    count(*) FILTER (WHERE l.sla_due_at IS NOT NULL
                     AND coalesce(l.first_contact_at, %(now)s) > l.sla_due_at),
    count(*) FILTER (WHERE {_OPEN} AND l.stale_at <= %(now)s),
    ARRAY[{_BUCKETS}], %(now)s
FROM {{leads}}
WHERE {{where}}
GROUP BY l.organization_id, l.study_site_id, l.source, {_COHORT}
ORDER BY 1, 2, 3, 4
ON CONFLICT (organization_id, study_site_id, source, day) DO UPDATE SET
    received = EXCLUDED.received, contacted = EXCLUDED.contacted,
    prescreened = EXCLUDED.prescreened, records_ready = EXCLUDED.records_ready,
    scheduled = EXCLUDED.scheduled, handed_off = EXCLUDED.handed_off,
    closed = EXCLUDED.closed, open = EXCLUDED.open, sla_missed = EXCLUDED.sla_missed,
    stale = EXCLUDED.stale, first_contact_hours = EXCLUDED.first_contact_hours,
    refreshed_at = EXCLUDED.refreshed_at
"""  # noqa: S608


_ALL = "leads_lead l"
# The cohorts (StudySite, source, UTC day) of the leads %(ids)s, and every lead of each.
_TOUCHED = """WITH touched AS MATERIALIZED (
    SELECT DISTINCT m.study_site_id, m.source,
        date_trunc('day', m.received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS first
    FROM leads_lead m WHERE m.id = ANY(%(ids)s))"""
_OF_TOUCHED = """touched t JOIN leads_lead l ON l.study_site_id = t.study_site_id
    AND l.source = t.source
    AND l.received_at >= t.first AND l.received_at < t.first + interval '1 day'"""


def cohorts_rebuild(*, organization_id: int | None = None, now: datetime | None = None) -> int:
    """Recompute every cohort (of one organization, or of all); returns the rows written."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if organization_id is None:
            cursor.execute("DELETE FROM reporting_dailycohort")
            cursor.execute(_INSERT.format(leads=_ALL, where="TRUE"), {"now": now})
            written = int(cursor.rowcount)
            CohortWatermark.objects.all().delete()
            CohortWatermark.objects.create(moved_until=now)
            return written
        else:
            params: dict[str, Any] = {"now": now, "org": organization_id}
            cursor.execute(
                "DELETE FROM reporting_dailycohort WHERE organization_id = %(org)s", params
            )
            cursor.execute(_INSERT.format(leads=_ALL, where="l.organization_id = %(org)s"), params)
        return int(cursor.rowcount)


def cohorts_tidy() -> bool:
    """VACUUM ANALYZE the cohorts after a rebuild, which rewrote them: the dashboards read them
    at once, and a table of dead rows with stale statistics made each read 20-30 times slower
    (1 to 27 ms at 1M leads) until autovacuum came by. Outside a transaction only (VACUUM
    cannot run in one); returns whether it ran."""
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) reporting_dailycohort")
    return True


def cohorts_refresh_for_leads(*, lead_ids: Iterable[int], now: datetime | None = None) -> int:
    """Recompute the cohorts these leads belong to (after they moved); returns the rows written.

    Reads each cohort through the lead_cohort index (StudySite, received_at), so the cost is the
    size of the touched cohorts, not of the organization."""
    ids = sorted(set(lead_ids))
    if not ids:
        return 0
    # The touched cohorts first, then each one's leads by the index: planned as one join of the
    # leads with themselves, it sorted all of them (2.1 s for 1,000 moves at 1M leads; 0.3 s so).
    sql = _TOUCHED + _INSERT.format(leads=_OF_TOUCHED, where="TRUE")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"now": now or timezone.now(), "ids": ids})
        return int(cursor.rowcount)


def cohorts_refresh_moved(*, now: datetime | None = None) -> int:
    """The cohorts of every lead that moved (was received, contacted, changed status) since the
    last run; a beat task every minute. Reads leads through the lead_moved index."""
    now = now or timezone.now()
    with transaction.atomic():
        mark = CohortWatermark.objects.select_for_update().first()
        if mark is None:
            # Never rebuilt: the nightly rebuild's job, not a scan of every lead here.
            CohortWatermark.objects.create(moved_until=now)
            return 0
        since = mark.moved_until - OVERLAP
        ids = list(Lead.objects.filter(last_movement_at__gte=since).values_list("pk", flat=True))
        written = cohorts_refresh_for_leads(lead_ids=ids, now=now)
        mark.moved_until = now
        mark.save(update_fields=["moved_until"])
        return written
