"""Work for a worker, kept in PostgreSQL until the broker has it.

`enqueue` writes an OutboxMessage in the caller's transaction (so the work exists exactly when
the change that needs it does) and, once that commits, sends it at once when the broker answers.
The web never waits on Redis: with Redis down (or the breaker open) the message simply stays,
and the relay sends it after Redis is back. The relay is a beat task every few seconds rather
than a process of its own: one fewer thing to run, and beat and a worker are already required.
When the broker is down neither can reach the relay task, which is fine, since nothing could be
sent anyway; the backlog drains on the first run after Redis returns.

Services name the task instead of importing it, so tasks (which import services) and services
never import each other.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from trialsnest.lib.breaker import redis_breaker
from trialsnest.ops.models import OutboxMessage

logger = logging.getLogger(__name__)

# A message being sent at once is not the relay's until this has passed; a claimed one neither.
LEASE = timedelta(seconds=30)
BATCH = 500
MAX_BACKOFF = timedelta(minutes=5)


def enqueue(task_name: str, *args: Any) -> None:
    """Run the task `task_name` with these (JSON) arguments once the transaction commits."""
    task = _task(task_name)  # a KeyError here is a typo in the caller
    message = OutboxMessage.objects.create(
        task=task.name, args=list(args), available_at=timezone.now() + LEASE
    )
    message_id = message.pk
    transaction.on_commit(lambda: _send_now(message_id, task_name, list(args)))


def enqueue_swept(task_name: str, *args: Any) -> None:
    """Like `enqueue`, for work whose own row a periodic sweep finds again (a submission not yet
    a lead: leads.tasks.retry_submissions). Its row already keeps the work, so while the broker
    answers no outbox row is written and deleted: that pair of writes cost the interest form a
    fifth of its throughput. When the broker is down the message goes to the outbox as usual
    (in the caller's transaction if the breaker is already open, else right after the failed
    publish), so the relay sends it seconds after Redis is back rather than at the next sweep.
    Only a crash between the commit and the publish leaves the work to the sweep."""
    if not redis_breaker.available():
        enqueue(task_name, *args)
        return
    _task(task_name)  # a KeyError here is a typo in the caller
    transaction.on_commit(lambda: _publish_or_keep(task_name, list(args)))


def _publish_or_keep(task_name: str, args: list[Any]) -> None:
    if _publish(task_name, args):
        return
    logger.info("%s waits in the outbox until the broker answers", task_name)
    # Losing this row in a crash only leaves the work to the sweep: no need to wait for the disk.
    with transaction.atomic():
        _commit_without_waiting()
        OutboxMessage.objects.create(task=_task(task_name).name, args=args)


def _commit_without_waiting() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


_LOADING = threading.Lock()


def _task(task_name: str) -> Any:
    if task_name not in current_app.tasks:
        # Outside a worker the apps' tasks modules are found on first use (autodiscovery),
        # once: two threads at once (gunicorn's threaded workers) raced, and the second found
        # the task not registered (a 500 for its request).
        with _LOADING:
            if task_name not in current_app.tasks:
                current_app.loader.import_default_modules()
    return current_app.tasks[task_name]


def load_tasks() -> None:
    """Register every app's tasks now (the web process does at start, before any request)."""
    with _LOADING:
        current_app.loader.import_default_modules()


def _publish(task_name: str, args: list[Any]) -> bool:
    if not redis_breaker.available():
        return False
    try:
        _task(task_name).apply_async(args)
    except Exception as error:  # any broker failure: the message stays in the outbox
        redis_breaker.failed(error)
        return False
    return True


def _send_now(message_id: int, task_name: str, args: list[Any]) -> None:
    if _publish(task_name, args):
        _forget([message_id])
    else:
        logger.info("%s waits in the outbox until the broker answers", task_name)


def relay(limit: int = BATCH) -> int:
    """Send what is due; returns how many were sent. Safe to run in several processes."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(available_at__lte=now)
            .order_by("available_at", "id")[:limit]
        )
        OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(
            available_at=now + LEASE
        )
    sent: list[int] = []
    for message in claimed:
        if _publish(message.task, message.args):
            sent.append(message.pk)
            continue
        # The broker stopped answering: keep the rest for the next run, with backoff.
        waiting = [m.pk for m in claimed if m.pk not in sent]
        backoff = min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** min(message.attempts, 6)))
        OutboxMessage.objects.filter(pk__in=waiting).update(
            available_at=now + backoff, attempts=message.attempts + 1, last_error="broker down"
        )
        break
    _forget(sent)
    return len(sent)


def _forget(message_ids: list[int]) -> None:
    """Delete sent messages without waiting for the disk: a deletion lost in a crash only sends
    the message again, which tasks allow. (A synchronous commit here cost the interest form
    about a third of its throughput.)"""
    if not message_ids:
        return
    with transaction.atomic():
        _commit_without_waiting()
        OutboxMessage.objects.filter(pk__in=message_ids).delete()


def backlog() -> tuple[int, float | None]:
    """(messages waiting, age in seconds of the oldest), for /healthz."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM ops_outboxmessage"
        )
        count, age = cursor.fetchone()
    return int(count), (float(age) if age is not None else None)
