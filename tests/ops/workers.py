"""Tasks to a real worker on a queue of a test's own (tests that kill workers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.conf import settings

from trialsnest.celery import app


@contextmanager
def tasks_to(queue: str, routes: str = "leads.tasks.*") -> Iterator[None]:
    """Tasks the services queue go to `queue` (the autouse fixture made them eager)."""
    app.conf.task_always_eager = False
    saved = app.conf.task_routes
    app.conf.task_routes = {routes: {"queue": queue}}
    _reroute()
    try:
        yield
    finally:
        app.conf.task_routes = saved
        _reroute()
        _forget_queue(queue)


def _reroute() -> None:
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # made again, from the routes, when next used


def _forget_queue(queue: str) -> None:
    """Drop the queue, and the killed worker's unacknowledged message with it: the broker
    would give it back to this queue in an hour (visibility timeout), for nobody."""
    if not settings.REDIS_URL:
        return  # the serverless broker's folders belong to the test run
    with app.connection_for_write() as conn:
        client = cast(Any, conn.default_channel).client  # the Redis transport's
        for tag, kept in client.hgetall("unacked").items():
            if json.loads(kept)[-1] == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        client.delete(queue)
