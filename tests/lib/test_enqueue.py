"""Work for a worker is named, sent after commit, and every name is a real task."""

from __future__ import annotations

import re

from tests.ops.helpers import BASE_DIR
from trialsnest.celery import app
from trialsnest.lib.enqueue import enqueue
from trialsnest.ops.tasks import ping  # noqa: F401  (registers the task under its name)


def test_every_task_a_service_names_exists():
    sources = [
        path
        for package in ("trialsnest", "leads", "prescreen", "records", "scheduling", "reporting")
        for path in (BASE_DIR / package).rglob("*.py")
    ]
    named = {
        name
        for path in sources
        for name in re.findall(r"enqueue\(\s*\"([\w.]+)\"", path.read_text())
    }
    assert named, "no service enqueues anything? the pattern is out of date"
    app.loader.import_default_modules()
    assert named - set(app.tasks) == set()


def test_nothing_is_sent_before_the_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        enqueue("trialsnest.ops.tasks.ping", 1)
    assert len(queued) == 1
