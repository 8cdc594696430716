"""Issue 13's scenarios: the stale sweep (whole table, and one day's increment, against the
bare SQL of the same update), the due scan, and the bell's poll. Every write is rolled back
(the sweep runs inside one transaction that is never committed): the database is left as
generated."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from leads.automation.due import due_soon
from leads.automation.stale import stale_sweep
from leads.models import OPEN_STATUSES
from trialsnest.bench.measure import Result, measure_page, percentile
from trialsnest.bench.pages import coordinator_of, sites_by_size, total_leads
from trialsnest.notifications.models import Kind, Notification

_BARE = """
    UPDATE leads_lead SET stale_marked_at = %(now)s, next_action = 'stale_review',
        next_action_due_at = %(now)s, attention_at = %(now)s, version = version + 1
    WHERE status = ANY(%(open)s) AND stale_at <= %(now)s AND stale_marked_at IS NULL
      AND blocker <> 'study_paused' AND (snoozed_until IS NULL OR snoozed_until <= %(now)s)
"""


class _Rollback(Exception):
    pass


def _timed_bare(now: datetime) -> tuple[float, int]:
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(_BARE, {"now": now, "open": list(OPEN_STATUSES)})
            rows = cursor.rowcount
        spent = time.perf_counter() - started
        transaction.set_rollback(True)
    return spent, rows


def stale_sweep_scenario(runs: int) -> list[Result]:
    leads = total_leads()
    now = timezone.now()
    bare, bare_rows = _timed_bare(now)
    full = daily = 0.0
    marked = daily_marked = 0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            marked = stale_sweep(now=now)
            full = time.perf_counter() - started
            started = time.perf_counter()
            daily_marked = stale_sweep(now=now + timedelta(days=1))
            daily = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    assert marked == bare_rows, (marked, bare_rows)  # the same update, the same leads
    return [
        Result(
            scenario="stale_sweep:full",
            leads=leads,
            p50_ms=round(full * 1000, 1),
            seconds=round(full, 2),
            rows_per_s=round(marked / full) if full else None,
            floor_ms=round(bare * 1000, 1),
            ratio=round(full / bare, 2) if bare else None,
        ),
        Result(
            scenario="stale_sweep:daily",
            leads=leads,
            p50_ms=round(daily * 1000, 1),
            seconds=round(daily, 2),
            rows_per_s=round(daily_marked / daily) if daily else None,
        ),
    ]


def due_scan(runs: int) -> list[Result]:
    timings, found = [], 0
    now = timezone.now()
    for run in range(runs + 1):
        started = time.perf_counter()
        found = len(due_soon(now=now + timedelta(minutes=run)))
        if run:  # the first warms the cache
            timings.append((time.perf_counter() - started) * 1000)
    return [
        Result(
            scenario="due_scan",
            leads=total_leads(),
            p50_ms=round(statistics.median(timings), 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            queries=2,  # the organizations, then what is due among them
            rows_per_s=found,  # rows found by the last scan (not a rate)
        )
    ]


def notifications_poll(runs: int) -> list[Result]:
    member = coordinator_of(sites_by_size()[0][0])
    Notification.objects.bulk_create(
        Notification(
            organization_id=member.organization_id,
            recipient=member,
            kind=Kind.DUE,
            key=f"bench:{i}",
            reason="A lead of yours is due",
        )
        for i in range(40)
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(member.user)
    try:
        result = measure_page(
            "notifications_poll",
            client,
            "/notifications/bell/",
            runs=runs,
            leads=total_leads(),
            headers={"HX-Request": "true"},
        )
    finally:
        Notification.objects.filter(recipient=member, key__startswith="bench:").delete()
    return [result]
