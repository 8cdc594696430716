"""The Celery app. Tasks take ids, load their objects and call a service; see DESIGN.md."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsnest.settings")

app = Celery("trialsnest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["trialsnest", "trialsnest.tenancy"])
app.autodiscover_tasks(["leads"], related_name="csv_tasks")
