"""/healthz names each dependency; it fails only when the database does."""

from __future__ import annotations

import json
import subprocess

import pytest
from django.test import Client
from django.utils import timezone

from tests.ops.helpers import BASE_DIR, PYTHON, env, free_port
from trialsnest.ops.models import Heartbeat, OutboxMessage


def test_every_dependency_is_reported(db):
    Heartbeat.objects.create(name="beat", at=timezone.now())

    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "beat", "outbox"}
    assert body["checks"]["outbox"]["waiting"] == 0


def test_a_stale_beat_and_an_old_backlog_are_degraded_not_ok(db):
    Heartbeat.objects.create(name="beat", at=timezone.now() - timezone.timedelta(minutes=10))
    OutboxMessage.objects.create(
        task="trialsnest.ops.tasks.ping", created_at=timezone.now() - timezone.timedelta(hours=1)
    )

    body = Client().get("/healthz").json()

    assert body["status"] == "degraded"
    assert body["checks"]["beat"]["status"] == "stale"
    assert body["checks"]["outbox"] == {"status": "stale", "waiting": 1, "oldest_seconds": 3600}


@pytest.mark.slow
def test_an_unreachable_database_answers_503():
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(r.status_code, r.content.decode())"
    )
    done = subprocess.run(
        [PYTHON, "-c", script],
        cwd=BASE_DIR,
        env=env(
            DJANGO_SETTINGS_MODULE="tests.settings",
            ALLOWED_HOSTS="localhost",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, _, body = done.stdout.strip().rpartition("\n")[2].partition(" ")
    assert status == "503", done.stdout + done.stderr
    assert json.loads(body) == {
        "status": "down",
        "checks": {"database": {"status": "down", "error": "OperationalError"}},
    }
