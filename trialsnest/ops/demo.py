"""`make demo`: everything a new user needs, in one command.

Starts the embedded PostgreSQL when DATABASE_URL is not set (Celery falls back to its
filesystem broker when REDIS_URL is not set), migrates, loads the demo data once, then runs the
web server, a Celery worker and Celery beat until Ctrl-C, which stops all it started.

The demo runs with DEBUG off, as the product does: a wrong address shows the product's own
404 page (not Django's technical page listing every URL pattern), an error its 500 page, a
sponsor on a staff page its 403. What DEBUG off then needs is set here, each overridable from
the environment: a secret key made once and kept in .data/ (sessions survive a restart), mail
printed to the terminal (console://, so invitation links can be followed), plain HTTP on
127.0.0.1 (no HTTPS redirect, HSTS or secure-only cookies), and collected static files (the
manifest storage names files by their hash).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _run(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)  # noqa: S603


def _demo_settings() -> None:
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsnest.settings")
    if "SECRET_KEY" not in os.environ:
        key_file = BASE_DIR / ".data" / "demo-secret-key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        os.environ["SECRET_KEY"] = key_file.read_text().strip()
    for name, value in {
        "EMAIL_URL": "console://",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
    }.items():
        os.environ.setdefault(name, value)


def main() -> int:
    _demo_settings()
    port = os.environ.get("DEMO_PORT", "8000")
    started_postgres = False
    if not os.environ.get("DATABASE_URL"):
        from trialsnest.lib import embedded

        started_postgres = not (embedded.DATA_DIR / "postmaster.pid").exists()
        say("Starting the embedded PostgreSQL in .data/postgres ...")
        os.environ["DATABASE_URL"] = embedded.embedded_database_url()
    if not os.environ.get("REDIS_URL"):
        say("No REDIS_URL: Celery uses the filesystem broker in .data/broker.")

    _run("migrate", "--noinput", "-v", "0")
    _run("collectstatic", "--noinput", "-v", "0")
    _run("seed_demo", "--if-empty")

    processes = [
        subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=BASE_DIR
        ),
        subprocess.Popen(  # noqa: S603
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "trialsnest",
                "worker",
                "-Q",
                "celery,inbound",
                "--beat",
                "--loglevel=INFO",
                "--concurrency=2",
            ],
            cwd=BASE_DIR,
        ),
    ]

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    say(
        f"\nTrialsNest is running on http://127.0.0.1:{port}/ (Ctrl-C stops everything)\n"
        "Sign in with one of these (password: trialsnest-demo):\n"
        "  org admin       admin@lakeside.example\n"
        "  site lead       lead@lakeside.example\n"
        "  coordinator     coordinator@lakeside.example\n"
        "  sponsor viewer  sponsor@wustl.example\n"
        "  other org       admin@harbor.example\n"
    )
    while not stopping and all(p.poll() is None for p in processes):
        time.sleep(0.3)

    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    if started_postgres:
        from trialsnest.lib import embedded

        embedded.embedded_stop()
    say("Stopped.")
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
