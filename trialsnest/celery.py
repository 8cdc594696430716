"""The Celery app. Tasks take ids, load their objects and call a service; see DESIGN.md.

Every installed app keeps its tasks in `<app>/tasks.py`, where autodiscovery finds them.

Execution is at least once: a message is acknowledged after its task ran (`acks_late`), a task
whose worker died is delivered again (`task_reject_on_worker_lost`, the broker's visibility
timeout), and `durable_task` retries a failure of the database or the network with backoff, a
bounded number of times. Every task is therefore safe to run twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery, shared_task
from celery.signals import beat_init
from django.db import DatabaseError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsnest.settings")

# The queues every worker takes (`celery worker -Q celery,inbound`): the default one, and
# inbound texts', so a STOP never waits behind a campaign's deliveries or an import.
INBOUND_QUEUE = "inbound"

app = Celery("trialsnest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = {"leads.outreach.tasks.process_inbound_sms": {"queue": INBOUND_QUEUE}}
app.autodiscover_tasks()


def durable_task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`shared_task` retrying database and network failures: 5 tries, 5 s doubling to 10 min."""
    defaults: dict[str, Any] = {
        "autoretry_for": (DatabaseError, OSError),
        "retry_backoff": 5,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 5,
    }
    return shared_task(**{**defaults, **options})  # type: ignore[no-any-return]


@app.on_after_finalize.connect
def _broker_folders(sender: Celery, **kwargs: Any) -> None:
    """The serverless broker (no REDIS_URL) keeps its messages in folders: make them."""
    options = sender.conf.broker_transport_options or {}
    folders = [value for key, value in options.items() if key.endswith(("_in", "_out", "folder"))]
    backend = str(sender.conf.result_backend or "")
    if backend.startswith("file://"):
        folders.append(backend.removeprefix("file://"))
    for folder in folders:
        Path(folder).mkdir(parents=True, exist_ok=True)


@beat_init.connect
def _first_heartbeat(sender: Any, **kwargs: Any) -> None:
    """Beat's first heartbeat goes as it starts, not a minute later: /healthz reports beat
    (and a worker) alive as soon as a deploy is up."""
    sender.app.send_task("trialsnest.ops.tasks.heartbeat")
