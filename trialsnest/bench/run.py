"""`make bench`: a fresh database of N leads, every scenario, results kept in the repository.

python -m trialsnest.bench.run [--leads N] [--runs R] [--seconds S]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parents[2]
RESULTS = BASE_DIR / "benchmarks" / "results.jsonl"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def bench_database_url(base: str) -> tuple[str, str, str]:
    """(url of the bench database, its name, url of the maintenance database)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "trialsnest"
    bench = f"{name}_bench"
    return (
        urlunsplit(parts._replace(path=f"/{bench}")),
        bench,
        urlunsplit(parts._replace(path="/postgres")),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if not base:
        from trialsnest.lib.embedded import embedded_database_url

        base = embedded_database_url()
    url, name, maintenance = bench_database_url(base)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="trialsnest.settings",
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-" + "k" * 50,
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        BENCHMARKS="true",
        EMAIL_URL="console://",
    )

    def manage(*command: str, capture: bool = False) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            check=True,
            text=True,
            stdout=subprocess.PIPE if capture else None,
        )
        return result.stdout or ""

    say(f"Fresh database {name} with {args.leads:,} leads")
    manage("migrate", "--noinput", "-v", "0")
    manage("generate_data", "--leads", str(args.leads))
    output = manage(
        "bench", "--json", "--runs", str(args.runs), "--seconds", str(args.seconds), capture=True
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as results:
        for line in output.splitlines():
            if line.startswith("{"):
                say(line)
                record = {"date": now, "commit": commit, **json.loads(line)}
                results.write(json.dumps(record) + "\n")
    say(f"Appended to {RESULTS.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
