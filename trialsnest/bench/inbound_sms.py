"""inbound_sms: STOP texts through the webhook over HTTP (gunicorn, 2 workers, 8 connections),
each from another person of the largest site's organization, and a Celery worker (solo, on the
same machine) of the inbound queue acting on them: the figure is texts per second from the
first post until every opt-out, its evidence, the timeline entries and the confirmation are
written (the confirmations are queued for the default queue's workers to send, as before: no
worker takes them here). Target: ≥ 200 per second. The webhook's own answer times are the
percentiles; `seconds` is the whole run, posting and catching up.

Everything the run wrote (texts, opt-outs, confirmations, timeline entries) is removed
afterwards, and the people's SMS consent put back, so the other scenarios see the same data.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator

import redis
from django.db.models import Count, Max, Model

from leads.models import Activity, OptOut, Person
from leads.outreach.models import InboundMessage, OutboundMessage, OutreachSettings
from trialsnest.bench.measure import Result, percentile
from trialsnest.bench.over_http import (
    _free_port,
    _wait,
    bench_redis_url,
    celery_worker,
    gunicorn,
)
from trialsnest.bench.pages import sites_by_size, total_leads
from trialsnest.celery import INBOUND_QUEUE
from trialsnest.ops.models import OutboxMessage
from trialsnest.tenancy.models import Site

PHONES = 20_000


def _last_id(model: type[Model]) -> int:
    return int(model._default_manager.aggregate(n=Max("id"))["n"] or 0)


def inbound_sms(seconds: float, connections: int = 8) -> list[Result]:
    site = Site.objects.get(pk=sites_by_size()[0][0])
    organization_id = site.organization_id
    outreach, _ = OutreachSettings.objects.get_or_create(organization_id=organization_id)
    # Numbers of one person each (a household's shared phone would be one opt-out for two).
    phones = list(
        Person.objects.filter(organization_id=organization_id)
        .exclude(phone="")
        .values("phone")
        .annotate(n=Count("id"))
        .filter(n=1)
        .values_list("phone", flat=True)[:PHONES]
    )
    consenting = list(
        Person.objects.filter(organization_id=organization_id, phone__in=phones, consent_sms=True)
        .values_list("id", flat=True)
    )  # fmt: skip
    written: tuple[type[Model], ...] = (
        Activity, InboundMessage, OptOut, OutboundMessage, OutboxMessage,
    )  # fmt: skip
    marks = {model: _last_id(model) for model in written}
    port = _free_port()
    broker = tempfile.mkdtemp(prefix="bench-broker-")
    redis_url = bench_redis_url()
    server = gunicorn(port, BROKER_DIR=broker, REDIS_URL=redis_url, SMS_URL="console://")
    celery = celery_worker(INBOUND_QUEUE, BROKER_DIR=broker, REDIS_URL=redis_url)
    path = f"/outreach/sms/{outreach.webhook_token}/"
    numbers: Iterator[str] = iter(phones)
    lock = threading.Lock()
    timings: list[float] = []
    statuses: list[int] = []
    try:
        _wait(port)
        stop_at = time.monotonic() + seconds

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine: list[float] = []
            codes: list[int] = []
            while time.monotonic() < stop_at or not mine:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    break
                body = json.dumps({"from": number, "body": "STOP", "id": uuid.uuid4().hex})
                started = time.perf_counter()
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                answer = conn.getresponse()
                answer.read()
                mine.append((time.perf_counter() - started) * 1000)
                codes.append(answer.status)
            with lock:
                timings.extend(mine)
                statuses.extend(codes)

        started = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 120
        while (recorded := OptOut.objects.filter(id__gt=marks[OptOut]).count()) < len(timings):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        for process in (server, celery):
            process.terminate()
        for process in (server, celery):
            process.wait(timeout=30)
        shutil.rmtree(broker, ignore_errors=True)
        if redis_url:
            redis.Redis.from_url(redis_url).flushdb()
        _forget(marks, organization_id, consenting)
    refused = [code for code in statuses if code != 200]
    assert not refused, f"{len(refused)} texts were not taken: {sorted(set(refused))}"
    assert recorded == len(timings), f"{recorded} opt-outs for {len(timings)} STOP texts"
    return [
        Result(
            scenario="inbound_sms",
            leads=total_leads(),
            p50_ms=round(statistics.median(timings), 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            rps=round(len(timings) / elapsed, 1),
            seconds=round(elapsed, 2),
        )
    ]


def _forget(marks: dict[type[Model], int], organization_id: int, consenting: list[int]) -> None:
    OutboundMessage.objects.filter(id__gt=marks[OutboundMessage]).delete()
    InboundMessage.objects.filter(id__gt=marks[InboundMessage]).delete()
    OptOut.objects.filter(id__gt=marks[OptOut]).delete()
    Activity.objects.filter(id__gt=marks[Activity], organization_id=organization_id).delete()
    Person.objects.filter(id__in=consenting).update(consent_sms=True)
    OutboxMessage.objects.filter(id__gt=marks[OutboxMessage]).delete()
