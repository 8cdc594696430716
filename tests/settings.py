"""The project's settings, with the few values tests need that production must never default."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("EMAIL_URL", "console://")  # the test runner swaps in its own outbox
os.environ.setdefault("BENCHMARKS", "true")  # the bench smoke test runs every scenario


def _keep_this_worker_apart() -> None:
    """Under pytest-xdist each test process takes a Redis database of its own (the given one plus
    its number), so caches, rate limits and broker queues never meet another process's, and a
    folder of its own for collected static files (gunicorn and demo tests collect them while
    another process serves them). The processes a test starts inherit both; the marker keeps
    them from shifting the database again."""
    worker, url = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("REDIS_URL", "")
    if not worker or os.environ.get("TESTS_WORKER") == worker:
        return
    os.environ["TESTS_WORKER"] = worker
    root = Path(__file__).resolve().parents[1] / ".data" / "staticfiles-tests" / worker
    os.environ["STATIC_ROOT"] = str(root)
    if url:
        parts = urlsplit(url)
        database = (int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))) % 16
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{database}"))


_keep_this_worker_apart()

from trialsnest.settings import *  # noqa: E402, F403 (after the environment is set)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
