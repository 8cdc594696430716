"""Benchmark scenarios: server time, queries, the same-run SQL floor, and HTTP throughput.

Server time is measured in-process through Django's test client (middleware, view, template:
the whole request), after a warm-up. The floor is the exact SQL that request sent, re-run
straight through psycopg on the same database: the ratio says how much the app adds.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads.models import OPEN_STATUSES, Lead
from leads.selectors import cursor_of
from trialsnest.tenancy.models import Membership, Role

BASE_DIR = Path(settings.BASE_DIR)
# Rows of the csv_import scenario: 100,000 at full size, fewer for smoke runs (`--csv-rows`).
CSV_ROWS = 100_000


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


def sites_by_size() -> list[tuple[int, int]]:
    """(site id, open leads), largest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ss.site_id, count(*) FROM leads_lead l
               JOIN studies_studysite ss ON ss.id = l.study_site_id
               WHERE l.status = ANY(%s) GROUP BY ss.site_id ORDER BY 2 DESC""",
            [list(OPEN_STATUSES)],
        )
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


def coordinator_of(site_id: int) -> Membership:
    member = (
        Membership.objects.filter(role=Role.COORDINATOR, restricted_sites=site_id, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    assert member is not None, f"no coordinator restricted to site {site_id}"
    return member


def deep_cursor(member: Membership, depth: int) -> str:
    leads = Lead.objects.filter(
        study_site__site__in=member.restricted_sites.all(), status__in=OPEN_STATUSES
    ).order_by("attention_at", "id")
    lead = leads[depth : depth + 1].first() or leads.last()
    assert lead is not None
    return cursor_of(lead)


def total_leads() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        return int(cursor.fetchone()[0])


def queue(runs: int) -> list[Result]:
    leads, results = total_leads(), []
    sizes = sites_by_size()
    variants = {"largest_site": sizes[0][0], "median_site": sizes[len(sizes) // 2][0]}
    for variant, site_id in variants.items():
        member = coordinator_of(site_id)
        client = Client(HTTP_HOST="localhost")
        client.force_login(member.user)
        results.append(measure_page(f"queue:{variant}", client, "/queue/", runs=runs, leads=leads))
        after = urllib.parse.quote(deep_cursor(member, 5000))
        results.append(
            measure_page(
                f"queue:{variant}_deep", client, f"/queue/?tab=open&after={after}",
                runs=runs, leads=leads, headers={"HX-Request": "true"},
            )
        )  # fmt: skip
    return results


def lead_page(runs: int) -> list[Result]:
    leads = total_leads()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lead_id FROM leads_activity GROUP BY lead_id HAVING count(*) = 50 LIMIT 1"
        )
        row = cursor.fetchone()
    assert row, "no lead with 50 activities: run generate_data"
    lead = Lead.objects.select_related("owner__user").get(pk=row[0])
    assert lead.owner is not None
    client = Client(HTTP_HOST="localhost")
    client.force_login(lead.owner.user)
    return [measure_page("lead_page", client, f"/leads/{lead.code}/", runs=runs, leads=leads)]


# Over HTTP ---------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _sign_in(port: int, email: str, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    body = response.read().decode()
    csrf = response.headers["Set-Cookie"].split("csrftoken=")[1].split(";")[0]
    token = body.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    form = urllib.parse.urlencode(
        {"username": email, "password": password, "csrfmiddlewaretoken": token}
    )
    conn.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"sign-in failed ({response.status})"
    cookies = response.headers.get_all("Set-Cookie") or []
    session = next(c for c in cookies if c.startswith("sessionid="))
    return f"csrftoken={csrf}; {session.split(';')[0]}"


def gunicorn(port: int, **extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="trialsnest.settings",
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        DATABASE_URL=_database_url(),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="1",
        LOG_LEVEL="WARNING",
        **extra,
    )
    # gunicorn runs the production settings, whose static storage needs its own manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "trialsnest.wsgi:application",
         "--config", "python:trialsnest.gunicorn", "--access-logfile", "/dev/null"],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip


def _database_url() -> str:
    db = settings.DATABASES["default"]
    host = str(db.get("HOST") or "")
    user = str(db.get("USER") or "")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{db['NAME']}?host={host}"
    return f"postgresql://{user}{password}@{host}{port}/{db['NAME']}"


def queue_http(seconds: float, connections: int = 8) -> list[Result]:
    from trialsnest.bench.generate import BENCH_PASSWORD

    member = coordinator_of(sites_by_size()[0][0])
    port = _free_port()
    server = gunicorn(port)
    try:
        _wait(port)
        cookie = _sign_in(port, member.user.email, BENCH_PASSWORD)
        timings: list[float] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine: list[float] = []
            while True:
                started = time.perf_counter()
                conn.request("GET", "/queue/", headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                assert response.status == 200, response.status
                mine.append((time.perf_counter() - started) * 1000)
                if time.monotonic() >= stop_at:
                    break
            with lock:
                timings.extend(mine)

        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    return [
        Result(
            scenario="queue_http",
            leads=total_leads(),
            p50_ms=round(statistics.median(timings), 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            rps=round(len(timings) / elapsed, 1),
            seconds=round(elapsed, 2),
        )
    ]


# CSV import ----------------------------------------------------------------------------------

CSV_IMPORT_CODE = r"""
import json, os, resource, sys, time
import django
django.setup()
from trialsnest.bench.scenarios import run_csv_import
seconds, rows = run_csv_import(int(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sys.stdout.write(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak}) + "\n")
"""


def vendor_csv(rows: int, organization_id: int, known_share: float = 0.05) -> bytes:
    """A vendor list: mostly new people, some already known (by phone), a few bad rows."""
    import random

    rng = random.Random()  # a new list each run: people not seen before, as a vendor sends
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM leads_person WHERE organization_id = %s LIMIT %s",
            [organization_id, int(rows * known_share)],
        )
        known = [row[0] for row in cursor.fetchall()]
    lines = ["First Name,Last Name,Phone,Email,DOB,Zip"]
    for i in range(rows):
        if known and i % 20 == 0:
            phone = known[(i // 20) % len(known)]
        else:
            phone = f"({rng.choice(['303', '720', '312'])}) {rng.randint(200, 999)}-{i % 10000:04d}"
        email = f"v{i}.{rng.randint(0, 10**9)}@vendor.example"
        if i % 1000 == 7:
            phone, email = "123", ""  # a bad row
        lines.append(f"Pat{i},Lee,{phone},{email},1970-0{1 + i % 9}-1{i % 9},80218")
    return ("\n".join(lines) + "\n").encode()


def run_csv_import(rows: int) -> tuple[float, int]:
    """Upload, check and import a vendor list end to end, as the worker does."""
    from leads import csv_import
    from leads.csv_tasks import import_csv
    from leads.models import CsvImport
    from leads.services import Actor
    from trialsnest.studies.models import StudySite

    site_id = sites_by_size()[0][0]
    study_site = StudySite.objects.select_related("site").filter(site_id=site_id).first()
    assert study_site is not None
    member = coordinator_of(site_id)
    data = vendor_csv(rows, study_site.organization_id)
    started = time.perf_counter()
    imp = csv_import.csv_import_upload(
        data=data,
        filename="vendor.csv",
        study_site=study_site,
        source="vendor_list",
        campaign="bench",
        actor=Actor(user=member.user),
    )
    CsvImport.objects.filter(pk=imp.pk).update(state=CsvImport.State.QUEUED, consent_attested=True)
    assert import_csv(imp.pk) == "done"
    return time.perf_counter() - started, rows


def csv_import_scenario(rows: int = 100_000) -> list[Result]:
    existing = total_leads()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get(
        "DJANGO_SETTINGS_MODULE", "trialsnest.settings"
    ))  # fmt: skip
    env["DATABASE_URL"] = _database_url()
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CSV_IMPORT_CODE, str(rows)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return [
        Result(
            scenario="csv_import",
            leads=existing,
            seconds=round(figures["seconds"], 2),
            rows_per_s=round(figures["rows"] / figures["seconds"], 1),
            peak_mb=round(figures["peak_mb"], 1),
        )
    ]


# The public interest form ------------------------------------------------------------------


def interest_form(seconds: float, connections: int = 8) -> list[Result]:
    """POST the interest form over HTTP: gunicorn with 2 workers, 8 connections."""
    from trialsnest.studies.models import StudySite

    study_site = (
        StudySite.objects.filter(recruitment_status="recruiting", site_id=sites_by_size()[0][0])
        .select_related("study")
        .first()
    )
    assert study_site is not None
    port = _free_port()
    # Submissions queue work for a worker; without Redis, they go to a broker folder of the
    # benchmark's own, so the demo's worker never inherits thousands of them.
    broker = tempfile.mkdtemp(prefix="bench-broker-")
    server = gunicorn(port, INTEREST_RATE_LIMIT="1000000/minute", BROKER_DIR=broker)
    path = f"/studies/sites/{study_site.code}/"
    try:
        _wait(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        assert response.status == 200, response.status
        cookie = response.headers["Set-Cookie"].split(";")[0]
        token = body.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        timings: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def worker(number: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine: list[float] = []
            codes: list[int] = []
            n = 0
            while time.monotonic() < stop_at or not mine:
                n += 1
                form = urllib.parse.urlencode(
                    {
                        "csrfmiddlewaretoken": token,
                        "site": str(study_site.code),
                        "first_name": "Bench",
                        "last_name": f"Visitor{number}",
                        "email": f"bench.{number}.{n}.{port}@visitor.example",
                        "phone": "",
                        "postal_code": "80218",
                        "preferred_time": "morning",
                        "consent": "email",
                    }
                )
                started = time.perf_counter()
                conn.request(
                    "POST",
                    path,
                    body=form,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": cookie,
                        "Referer": f"http://127.0.0.1:{port}{path}",
                    },
                )
                answer = conn.getresponse()
                answer.read()
                mine.append((time.perf_counter() - started) * 1000)
                codes.append(answer.status)
            with lock:
                timings.extend(mine)
                statuses.extend(codes)

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(broker, ignore_errors=True)
    refused = [code for code in statuses if code != 302]
    assert not refused, f"{len(refused)} submissions were not accepted: {sorted(set(refused))}"
    return [
        Result(
            scenario="interest_form",
            leads=total_leads(),
            p50_ms=round(statistics.median(timings), 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            rps=round(len(timings) / elapsed, 1),
            seconds=round(elapsed, 2),
        )
    ]


SCENARIOS: dict[str, Callable[[int, float], list[Result]]] = {
    "queue": lambda runs, seconds: queue(runs),
    "queue_http": lambda runs, seconds: queue_http(seconds),
    "lead_page": lambda runs, seconds: lead_page(runs),
    "interest_form": lambda runs, seconds: interest_form(seconds),
    # Last: it adds leads to the database the other scenarios measure.
    "csv_import": lambda runs, seconds: csv_import_scenario(CSV_ROWS),
}
