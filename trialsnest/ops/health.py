"""Each dependency's state, for /healthz and operators."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from trialsnest.ops import outbox
from trialsnest.ops.models import Heartbeat

# Beat's heartbeat runs every minute: three missed ones and beat (or every worker) is gone.
BEAT_STALE_SECONDS = 180
# A backlog older than this means the relay is not draining it.
OUTBOX_STALE_SECONDS = 120


def database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok"}


def broker() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"status": "ok", "kind": "filesystem"}
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
        socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return {"status": "down", "error": type(error).__name__}
    finally:
        client.close()
    return {"status": "ok"}


def beat() -> dict[str, Any]:
    last = Heartbeat.objects.filter(name="beat").values_list("at", flat=True).first()
    if last is None:
        return {"status": "unknown", "age_seconds": None}
    age = (timezone.now() - last).total_seconds()
    return {"status": "ok" if age <= BEAT_STALE_SECONDS else "stale", "age_seconds": round(age)}


def outbox_backlog() -> dict[str, Any]:
    waiting, age = outbox.backlog()
    stale = age is not None and age > OUTBOX_STALE_SECONDS
    return {
        "status": "stale" if stale else "ok",
        "waiting": waiting,
        "oldest_seconds": None if age is None else round(age),
    }


def report() -> tuple[bool, dict[str, Any]]:
    """(the database answers, every check). Without the database nothing else can be read."""
    checks: dict[str, Any] = {"database": database()}
    if checks["database"]["status"] != "ok":
        return False, {"status": "down", "checks": checks}
    checks.update(broker=broker(), beat=beat(), outbox=outbox_backlog())
    degraded = any(check["status"] not in ("ok", "unknown") for check in checks.values())
    return True, {"status": "degraded" if degraded else "ok", "checks": checks}
