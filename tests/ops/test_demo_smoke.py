"""`make demo` from scratch: embedded PostgreSQL, serverless broker, web, worker and beat."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.ops.helpers import BASE_DIR, PYTHON, env, free_port

EMBEDDED = {"DATABASE_URL": None, "REDIS_URL": None, "DJANGO_SETTINGS_MODULE": None}


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "make demo exited early"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                return int(response.status)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.slow
def test_make_demo_starts_everything_and_ctrl_c_stops_it():
    port = free_port()
    demo = subprocess.Popen(
        [PYTHON, "-m", "trialsnest.ops.demo"],
        cwd=BASE_DIR,
        env=env(**EMBEDDED, DEMO_PORT=str(port)),
        start_new_session=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/accounts/login/", demo, 240) == 200

        token = uuid.uuid4().hex
        round_trip = subprocess.run(
            [
                PYTHON,
                "-c",
                "import django, trialsnest; django.setup(); "
                "from trialsnest.ops.tasks import ping; "
                f"print(ping.delay('{token}').get(timeout=60))",
            ],
            cwd=BASE_DIR,
            env=env(**{**EMBEDDED, "DEBUG": "true"}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert round_trip.stdout.strip() == f"pong:{token}", round_trip.stderr
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        code = demo.wait(timeout=90)
    assert code == 0
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
