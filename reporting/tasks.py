"""Reporting tasks: thin adapters that take ids and call a rollup service; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from reporting.rollups import (
    cohorts_rebuild,
    cohorts_refresh_for_leads,
    cohorts_refresh_moved,
    cohorts_tidy,
)
from trialsnest.celery import durable_task


@durable_task()
def refresh_cohorts(lead_ids: list[int]) -> int:
    """The cohorts of leads that just moved (enqueued by reporting.receivers)."""
    return cohorts_refresh_for_leads(lead_ids=lead_ids)


@shared_task
def rebuild_cohorts(organization_id: int | None = None) -> int:
    """Nightly (beat), and after a large import: every cohort again, SLA misses and stale
    counts as of now included."""
    written = cohorts_rebuild(organization_id=organization_id)
    cohorts_tidy()
    return written


@shared_task
def refresh_moved_cohorts() -> int:
    """Every minute (beat): the cohorts of the leads that moved since the last run."""
    return cohorts_refresh_moved()
