"""Measuring one page: server time in-process, its queries, and the same-run SQL floor.

Server time is measured through Django's test client (middleware, view, template: the whole
request), after a warm-up. The floor is the exact SQL that request sent, re-run straight
through psycopg on the same database: the ratio says how much the app adds.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass

import psycopg
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Result:
    scenario: str
    leads: int | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    queries: int | None = None
    rps: float | None = None
    seconds: float | None = None
    rows_per_s: float | None = None
    peak_mb: float | None = None
    floor_ms: float | None = None
    ratio: float | None = None
    explain: str | None = None

    def json(self) -> str:
        data = asdict(self)
        data.pop("explain")
        return json.dumps(data)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _dsn() -> str:
    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
    }
    return " ".join(f"{k}='{v}'" for k, v in params.items() if v)


def floor_ms(statements: list[str], runs: int) -> tuple[float, str]:
    """p50 of re-running the statements directly; also returns the slowest statement."""
    timings, slowest = [], ("", 0.0)
    with psycopg.connect(_dsn(), autocommit=True) as conn, conn.cursor() as cursor:
        for run in range(runs + 1):
            total = 0.0
            for sql in statements:
                started = time.perf_counter()
                cursor.execute(sql.encode())
                if cursor.description:
                    cursor.fetchall()
                spent = time.perf_counter() - started
                total += spent
                if spent > slowest[1]:
                    slowest = (sql, spent)
            if run:  # the first run warms the cache
                timings.append(total * 1000)
    return statistics.median(timings), slowest[0]


def explain(sql: str) -> str:
    with psycopg.connect(_dsn(), autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(b"EXPLAIN (ANALYZE, BUFFERS) " + sql.encode())
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_page(
    name: str,
    client: Client,
    path: str,
    *,
    runs: int,
    leads: int,
    headers: dict[str, str] | None = None,
) -> Result:
    headers = headers or {}
    for _ in range(min(3, runs)):  # warm-up
        assert client.get(path, headers=headers).status_code == 200, path
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    with CaptureQueriesContext(connection) as captured:
        client.get(path, headers=headers)
    statements = [q["sql"] for q in captured.captured_queries]
    floor, slowest = floor_ms(statements, runs=max(1, min(runs, 20)))
    p50 = statistics.median(timings)
    return Result(
        scenario=name,
        leads=leads,
        p50_ms=round(p50, 2),
        p95_ms=round(percentile(timings, 95), 2),
        p99_ms=round(percentile(timings, 99), 2),
        queries=len(statements),
        floor_ms=round(floor, 2),
        ratio=round(p50 / floor, 2) if floor else None,
        explain=slowest,
    )


def collect_static() -> None:
    """Production static storage needs its manifest, for in-process pages and gunicorn alike."""
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)


# Who and what to measure -------------------------------------------------------------------
