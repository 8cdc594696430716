"""Scheduling's beat tasks: thin adapters (ids only; each safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from scheduling.reminders import appointment_reminders_queue


@shared_task
def queue_appointment_reminders() -> int:
    """Beat, every 5 minutes: the reminders that fell due go to outreach, once each."""
    return appointment_reminders_queue()
