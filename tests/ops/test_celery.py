"""A task round trip through a real broker and a real worker process."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from django.conf import settings

from tests.ops.helpers import BASE_DIR, PYTHON, env
from trialsnest.celery import app
from trialsnest.ops.tasks import ping

QUEUE = f"test-{uuid.uuid4().hex}"


@pytest.fixture
def worker():
    # A queue of this test's own: other runs on the same broker (or messages they left) never
    # stand between it and its answer.
    process = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "trialsnest", "worker", "--pool=solo", "--loglevel=WARNING",
         "-Q", QUEUE],
        cwd=BASE_DIR,
        env=env(DJANGO_SETTINGS_MODULE="tests.settings"),
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_a_task_round_trips_through_the_broker_and_a_worker(worker):
    app.conf.task_always_eager = False  # the autouse fixture makes tasks eager elsewhere
    token = uuid.uuid4().hex
    result = ping.apply_async((token,), queue=QUEUE)
    assert result.get(timeout=60) == f"pong:{token}"
    assert worker.poll() is None
    expected = "redis://" if settings.REDIS_URL else "filesystem://"
    assert app.connection().as_uri().startswith(expected)
