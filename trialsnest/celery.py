"""The Celery app. Tasks take ids, load their objects and call a service; see DESIGN.md.

Every installed app keeps its tasks in `<app>/tasks.py`, where autodiscovery finds them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsnest.settings")

app = Celery("trialsnest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
