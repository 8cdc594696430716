"""Sending work to a Celery worker once the current transaction has committed.

Services name the task instead of importing it, so tasks (which import services) and
services never import each other. A broker that cannot be reached is logged, not raised:
the change is committed already, and the periodic scans that own each kind of work pick it
up later.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *ids: int) -> None:
    """Run the task `task_name` with these ids after commit (at once outside a transaction)."""
    if task_name not in current_app.tasks:
        # Outside a worker the apps' tasks modules are found on first use (autodiscovery).
        current_app.loader.import_default_modules()
    task = current_app.tasks[task_name]  # a KeyError here is a typo in the caller

    def send() -> None:
        try:
            task.delay(*ids)
        except Exception:
            # The broker is down: the task's periodic scan finds the work later.
            logger.warning("Could not queue %s%s; it is picked up later", task_name, ids)

    transaction.on_commit(send)
