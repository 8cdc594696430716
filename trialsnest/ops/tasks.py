"""Operational tasks: liveness of the worker and of beat."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache


@shared_task
def ping(token: str) -> str:
    """Round trip through the broker and a worker; returns what it was given."""
    return f"pong:{token}"


@shared_task
def heartbeat() -> float:
    """Run by beat every minute; operators read the time to see that beat and a worker live."""
    now = time.time()
    cache.set("celery:heartbeat", now, timeout=None)
    return now
