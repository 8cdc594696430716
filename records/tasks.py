"""Records' beat tasks: thin adapters (each safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from records.followups import records_follow_up


@shared_task
def follow_up_records() -> list[int]:
    """Beat, hourly: overdue record requests remind the owner, later the site leads."""
    return list(records_follow_up())
