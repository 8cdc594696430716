"""Operational tasks: liveness of the worker and of beat, and the outbox relay."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from trialsnest.ops import outbox
from trialsnest.ops.models import Heartbeat


@shared_task(ignore_result=False)
def ping(token: str) -> str:
    """Round trip through the broker and a worker; returns what it was given."""
    return f"pong:{token}"


@shared_task
def heartbeat() -> str:
    """Run by beat every minute; /healthz reads its age to see that beat and a worker live."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="beat", defaults={"at": now})
    return now.isoformat()


@shared_task
def relay_outbox() -> int:
    """Run by beat every few seconds: send the outbox's messages the broker did not take."""
    return outbox.relay()
