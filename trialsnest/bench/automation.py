"""Issue 13's scenarios: the stale sweep (whole table, and one day's increment, against the
bare SQL of the same update), the due scan, and the bell's poll. Every write is rolled back
(the sweep runs inside one transaction that is never committed), and the sweep's tables are
vacuumed and their indexes rebuilt after: the database is left as generated."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta

from celery import current_app
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from leads.automation.due import due_soon
from leads.automation.stale import stale_sweep
from leads.models import OPEN_STATUSES, Activity, Lead
from leads.outreach.models import OutboundMessage
from scheduling.models import Appointment, AppointmentStatus, VisitType
from scheduling.reminders import appointment_reminders_queue
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


def _timed_bare(now: datetime) -> tuple[tuple[float, int], tuple[float, int]]:
    """The bare UPDATE at `now`, then a day later (the day's increment), in one transaction
    that is rolled back, as the sweep's two runs are: (seconds, rows) for each."""
    spent = []
    with transaction.atomic():
        for at in (now, now + timedelta(days=1)):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(_BARE, {"now": at, "open": list(OPEN_STATUSES)})
                rows = cursor.rowcount
            spent.append((time.perf_counter() - started, rows))
        transaction.set_rollback(True)
    return spent[0], spent[1]


def _vacuum() -> None:
    """Clear the dead rows a rolled-back run leaves (autovacuum would, in production) and
    checkpoint, so the floor and the sweep each start from the same table and each pays the
    full-page writes that follow a checkpoint."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM leads_lead, leads_activity, audit_auditevent")
        cursor.execute("CHECKPOINT")


def stale_sweep_scenario(runs: int) -> list[Result]:
    leads = total_leads()
    now = timezone.now()
    _vacuum()
    (bare, bare_rows), (bare_daily, _) = _timed_bare(now)
    _vacuum()
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
    _vacuum()
    with connection.cursor() as cursor:
        # Each rolled-back run leaves every index of the leads ~150k entries fuller (vacuumed,
        # but their pages split): after a few runs lead_counts was 3.5x its size and the
        # queue that reads it 1.5-2x slower. Rebuilt, the database is as generated again.
        cursor.execute("REINDEX TABLE leads_lead")
        cursor.execute("REINDEX TABLE leads_activity")
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
            floor_ms=round(bare_daily * 1000, 1),
            ratio=round(daily / bare_daily, 2) if bare_daily else None,
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


REMINDERS = 10_000


def reminders(runs: int) -> list[Result]:
    """10,000 visit reminders fall due at once: the scan claims each (its message row), writes
    its timeline entry and audit row, and hands it to the worker (the real broker). Its setup
    and its rows are removed again; the published tasks are purged (no worker runs here)."""
    now = timezone.now()
    leads = list(
        Lead.objects.filter(status__in=OPEN_STATUSES)
        .exclude(appointments__status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED])
        .values_list("id", "organization_id", "study_site_id", "study_site__site_id")
        .order_by("id")[:REMINDERS]
    )
    sites = {study_site: org for _lead, org, study_site, _site in leads}
    visit_types = {
        study_site: VisitType.objects.create(
            organization_id=org, study_site_id=study_site, name=f"Bench visit {now:%H%M%S%f}",
            duration_minutes=60, reminder_hours=[48],
        )
        for study_site, org in sites.items()
    }  # fmt: skip
    starts = now + timedelta(hours=48) - timedelta(minutes=1)  # its 48 h reminder fell due
    made = Appointment.objects.bulk_create(
        Appointment(
            organization_id=org, lead_id=lead, visit_type=visit_types[study_site], site_id=site,
            starts_at=starts, ends_at=starts + timedelta(hours=1),
        )
        for lead, org, study_site, site in leads
    )  # fmt: skip
    ids = [a.pk for a in made]
    Appointment.objects.filter(pk__in=ids).update(created_at=now - timedelta(days=3))
    try:
        started = time.perf_counter()
        queued = appointment_reminders_queue(now=now)
        spent = time.perf_counter() - started
        again = appointment_reminders_queue(now=now)  # a second run claims nothing
    finally:
        keys = [f"visit-reminder:{a.code}:48h" for a in made]
        messages = OutboundMessage.objects.filter(idempotency_key__in=keys)
        Activity.objects.filter(
            kind="message",
            data__message__in=[str(c) for c in messages.values_list("code", flat=True)],
        ).delete()
        messages.delete()
        Appointment.objects.filter(pk__in=ids).delete()
        VisitType.objects.filter(pk__in=[v.pk for v in visit_types.values()]).delete()
        current_app.control.purge()
    assert (queued, again) == (len(made), 0), (queued, again)
    return [
        Result(
            scenario="reminders",
            leads=total_leads(),
            p50_ms=round(spent * 1000, 1),  # the one scan's time
            seconds=round(spent, 2),
            rows_per_s=round(queued / spent) if spent else None,
        )
    ]
