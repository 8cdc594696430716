"""Work for a worker is named, kept in the outbox with the change that needs it, sent after
commit, and relayed later when the broker was unreachable."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from django.test import TestCase
from django.utils import timezone

from tests.ops.helpers import BASE_DIR
from trialsnest.celery import app
from trialsnest.ops.outbox import enqueue, enqueue_swept
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
        for name in re.findall(r"enqueue(?:_swept)?\(\s*\"([\w.]+)\"", path.read_text())
    }
    assert named, "no service enqueues anything? the pattern is out of date"
    app.loader.import_default_modules()
    assert named - set(app.tasks) == set()


def test_nothing_is_sent_before_the_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        enqueue("trialsnest.ops.tasks.ping", 1)
    assert len(queued) == 1


def test_work_waits_in_the_outbox_while_the_broker_is_unreachable_and_the_relay_sends_it(db):
    from trialsnest.lib.breaker import redis_breaker
    from trialsnest.ops import outbox
    from trialsnest.ops.models import OutboxMessage

    redis_breaker.failed(ConnectionError("broker down"))  # as after a failed publish
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            enqueue("trialsnest.ops.tasks.ping", "kept")
        message = OutboxMessage.objects.get()
        assert (message.task, message.args) == ("trialsnest.ops.tasks.ping", ["kept"])
        assert outbox.relay() == 0  # not due yet: the sender's lease
        OutboxMessage.objects.update(available_at=timezone.now())
        assert outbox.relay() == 0  # the broker is still "down": it waits, with backoff
        waiting = OutboxMessage.objects.get()
        assert waiting.attempts == 1
        assert waiting.available_at > timezone.now()
    finally:
        redis_breaker.reset()
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox.relay() == 1
    assert not OutboxMessage.objects.exists()


def test_work_sent_at_once_leaves_nothing_in_the_outbox(db):
    from trialsnest.ops.models import OutboxMessage

    with TestCase.captureOnCommitCallbacks(execute=True):
        enqueue("trialsnest.ops.tasks.ping", 1)
    assert not OutboxMessage.objects.exists()


def test_swept_work_writes_no_outbox_row_while_the_broker_answers(db):
    from trialsnest.ops.models import OutboxMessage

    with TestCase.captureOnCommitCallbacks(execute=True) as sent:
        enqueue_swept("trialsnest.ops.tasks.ping", 1)
        assert not OutboxMessage.objects.exists()  # its own row (swept later) keeps the work
    assert len(sent) == 1
    assert not OutboxMessage.objects.exists()


def test_swept_work_goes_to_the_outbox_while_the_breaker_is_open(db):
    from trialsnest.lib.breaker import redis_breaker
    from trialsnest.ops import outbox
    from trialsnest.ops.models import OutboxMessage

    redis_breaker.failed(ConnectionError("broker down"))
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            enqueue_swept("trialsnest.ops.tasks.ping", "kept")
            assert OutboxMessage.objects.get().args == ["kept"]  # with the caller's change
    finally:
        redis_breaker.reset()
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox.relay() == 1
    assert not OutboxMessage.objects.exists()


def test_a_typo_in_a_swept_task_name_fails_in_the_caller(db):
    import pytest

    with pytest.raises(KeyError):
        enqueue_swept("trialsnest.ops.tasks.no_such_task", 1)


THREADS_AT_ONCE = """
import threading
import django
django.setup()
from trialsnest.ops.outbox import _task
barrier, found = threading.Barrier(8), []
def look():
    barrier.wait()
    try:
        found.append(_task("leads.outreach.tasks.deliver_message").name)
    except Exception as exc:
        found.append(type(exc).__name__)
threads = [threading.Thread(target=look) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted(set(found)))
"""


def test_eight_threads_find_a_task_at_once_in_a_new_process() -> None:
    # A threaded web worker's first requests: each needs a task before any loaded them. Seven
    # of eight found it unregistered (a 500 each) before the loading was done under a lock.
    done = subprocess.run(
        [sys.executable, "-c", THREADS_AT_ONCE],
        cwd=BASE_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "['leads.outreach.tasks.deliver_message']", done.stderr
