from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from leads.models import Lead
from reporting.models import DailyCohort
from reporting.rollups import (
    cohorts_rebuild,
    cohorts_refresh_for_leads,
    cohorts_refresh_moved,
    cohorts_tidy,
)
from reporting.tasks import rebuild_cohorts, refresh_moved_cohorts
from tests.reporting.helpers import spread_leads

pytestmark = pytest.mark.django_db

FIELDS = (
    "received",
    "contacted",
    "prescreened",
    "records_ready",
    "scheduled",
    "handed_off",
    "closed",
    "open",
    "sla_missed",
    "stale",
)


def direct_counts(now):
    """The same figures counted straight over the leads."""
    open_q = ~Q(status__in=["handed_off", "closed"])
    rows = (
        Lead.objects.annotate(day=TruncDate("received_at", tzinfo=timezone.UTC))
        .values("organization_id", "study_site_id", "source", "day")
        .annotate(
            received=Count("id"),
            contacted=Count("first_contact_at"),
            prescreened=Count("prescreened_at"),
            records_ready=Count("records_ready_at"),
            scheduled=Count("scheduled_at"),
            handed_off=Count("handed_off_at"),
            closed=Count("id", filter=Q(status="closed")),
            open=Count("id", filter=open_q),
            sla_missed=Count(
                "id",
                filter=Q(sla_due_at__isnull=False)
                & (
                    Q(first_contact_at__gt=F("sla_due_at"))
                    | Q(first_contact_at__isnull=True, sla_due_at__lt=now)
                ),
            ),
            stale=Count("id", filter=open_q & Q(stale_at__lte=now)),
        )
    )
    return {
        (r["organization_id"], r["study_site_id"], r["source"], r["day"]): tuple(
            r[f] for f in FIELDS
        )
        for r in rows
    }


def rollup_counts():
    return {
        (r["organization_id"], r["study_site_id"], r["source"], r["day"]): tuple(
            r[f] for f in FIELDS
        )
        for r in DailyCohort.objects.values(
            "organization_id", "study_site_id", "source", "day", *FIELDS
        )
    }


def test_the_rebuilt_rollups_equal_a_direct_count_over_the_leads(world):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=300, now=now)
    spread_leads(study_site=world.study_site_a2, owner=world.site_lead, n=120, now=now, seed=2)
    written = cohorts_rebuild(now=now)
    assert written == DailyCohort.objects.count() > 50
    assert rollup_counts() == direct_counts(now)


def test_the_first_contact_histogram_counts_every_contacted_lead_once(world):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=200, now=now)
    cohorts_rebuild(now=now)
    contacted = Lead.objects.filter(first_contact_at__isnull=False).count()
    assert sum(sum(r.first_contact_hours) for r in DailyCohort.objects.all()) == contacted


def test_a_moved_lead_updates_its_cohort_and_no_other(world):
    now = timezone.now()
    leads = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=100, now=now)
    cohorts_rebuild(now=now)
    lead = Lead.objects.filter(pk__in=[x.pk for x in leads], handed_off_at__isnull=True).first()
    assert lead is not None
    Lead.objects.filter(pk=lead.pk).update(
        status="handed_off", handed_off_at=now, next_action="", next_action_due_at=None
    )
    before = rollup_counts()
    assert cohorts_refresh_for_leads(lead_ids=[lead.pk], now=now) == 1
    after = rollup_counts()
    assert after == direct_counts(now)
    assert sum(1 for k in after if after[k] != before[k]) <= 1


def test_the_minute_sweep_picks_up_leads_that_moved_since_its_last_run(world):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=80, now=now)
    rebuild_cohorts()
    moved = Lead.objects.filter(first_contact_at__isnull=True).first()
    assert moved is not None
    Lead.objects.filter(pk=moved.pk).update(
        first_contact_at=timezone.now(), last_movement_at=timezone.now()
    )
    assert refresh_moved_cohorts() >= 1
    assert _only_clock_fields_differ()


def _only_clock_fields_differ():
    # SLA misses and stale counts are as of each refresh; the rest must agree exactly.
    now = timezone.now()
    direct, rolled = direct_counts(now), rollup_counts()
    return {k: v[:8] for k, v in direct.items()} == {k: v[:8] for k, v in rolled.items()}


def test_refreshing_twice_changes_nothing(world):
    now = timezone.now()
    leads = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=50, now=now)
    cohorts_rebuild(now=now)
    ids = [lead.pk for lead in leads]
    cohorts_refresh_for_leads(lead_ids=ids, now=now)
    first = rollup_counts()
    cohorts_refresh_for_leads(lead_ids=ids, now=now)
    assert rollup_counts() == first == direct_counts(now)


def test_the_sweep_without_a_rebuild_waits_for_the_nightly_one(world):
    assert cohorts_refresh_moved(now=timezone.now() - timedelta(minutes=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_the_rebuild_task_leaves_the_cohorts_vacuumed_and_analyzed(world):
    """A rebuild rewrites every cohort; the task then VACUUM ANALYZEs them, so the dashboards
    that read them next find no dead rows and fresh statistics."""
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=40, now=timezone.now())
    rebuild_cohorts()  # the old rows become dead ones
    written = rebuild_cohorts()

    assert written == DailyCohort.objects.count() > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup, last_vacuum IS NOT NULL, last_analyze IS NOT NULL"
            " FROM pg_stat_user_tables WHERE relname = 'reporting_dailycohort'"
        )
        assert cursor.fetchone() == (0, True, True)
    assert cohorts_tidy() is True
