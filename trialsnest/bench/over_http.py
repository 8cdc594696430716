"""Scenarios over HTTP: gunicorn with 2 workers, 8 connections, against the queue and the
public interest form."""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import redis
from django.conf import settings

from trialsnest.bench.measure import Result, percentile
from trialsnest.bench.pages import coordinator_of, sites_by_size, total_leads

BASE_DIR = Path(settings.BASE_DIR)


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
        DATABASE_URL=database_url(),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="1",
        LOG_LEVEL="WARNING",
        BENCHMARKS="true",
        EMAIL_URL="console://",
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


def celery_worker(queues: str, **extra: str) -> subprocess.Popen[bytes]:
    """A Celery worker (solo pool) of `queues` with the settings `gunicorn` gives the web. Its
    output is dropped: what it failed to do shows in the figures the scenario checks."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="trialsnest.settings",
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-" + "k" * 50,
        DATABASE_URL=database_url(),
        LOG_LEVEL="WARNING",
        BENCHMARKS="true",
        EMAIL_URL="console://",
        **extra,
    )
    return subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "celery", "-A", "trialsnest", "worker", "--pool=solo",
         "-Q", queues, "--loglevel=WARNING", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def database_url() -> str:
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


BENCH_REDIS_DB = 15


def bench_redis_url() -> str:
    """The configured Redis with the benchmark's own database number ("" without Redis)."""
    if not settings.REDIS_URL:
        return ""
    parts = urllib.parse.urlsplit(settings.REDIS_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))


def interest_form(seconds: float, connections: int = 8, redis_down: bool = False) -> list[Result]:
    """POST the interest form over HTTP: gunicorn with 2 workers, 8 connections.

    With `redis_down`, REDIS_URL names a port nothing listens on (as a stopped Redis): every
    submission is kept with its work waiting in the outbox, which is emptied afterwards.
    """
    from trialsnest.ops.models import OutboxMessage
    from trialsnest.studies.models import StudySite

    study_site = (
        StudySite.objects.filter(recruitment_status="recruiting", site_id=sites_by_size()[0][0])
        .select_related("study")
        .first()
    )
    assert study_site is not None
    port = _free_port()
    # Submissions queue work for a worker; they go to a broker of the benchmark's own (a Redis
    # database of its own, else a folder), so no other worker inherits thousands of them.
    broker = tempfile.mkdtemp(prefix="bench-broker-")
    redis_url = f"redis://127.0.0.1:{_free_port()}/0" if redis_down else bench_redis_url()
    outbox_before = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    server = gunicorn(
        port, INTEREST_RATE_LIMIT="1000000/minute", BROKER_DIR=broker, REDIS_URL=redis_url
    )
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
        if redis_down:
            OutboxMessage.objects.filter(id__gt=outbox_before).delete()
        elif redis_url:
            redis.Redis.from_url(redis_url).flushdb()
    refused = [code for code in statuses if code != 302]
    assert not refused, f"{len(refused)} submissions were not accepted: {sorted(set(refused))}"
    return [
        Result(
            scenario="interest_form_redis_down" if redis_down else "interest_form",
            leads=total_leads(),
            p50_ms=round(statistics.median(timings), 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            rps=round(len(timings) / elapsed, 1),
            seconds=round(elapsed, 2),
        )
    ]
