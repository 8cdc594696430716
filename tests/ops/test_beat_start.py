"""Beat's first heartbeat goes as it starts: /healthz reports beat alive within seconds of a
deploy, not after the first minute's interval (a real worker with beat on a Redis of its own)."""

from __future__ import annotations

import time

import pytest

from tests.ops.stack import RedisServer, Stack, wait_until
from trialsnest.ops.models import Heartbeat

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_beat_sends_its_first_heartbeat_as_it_starts():
    redis = RedisServer()
    redis.start()
    stack = Stack(redis)
    try:
        started = time.monotonic()
        stack.start_worker()
        # The schedule's own heartbeat comes a minute after beat starts.
        wait_until(lambda: Heartbeat.objects.filter(name="beat").exists(), 40, "a heartbeat")
        assert time.monotonic() - started < 40
    finally:
        stack.stop()
        redis.stop()
