"""A worker killed (SIGKILL) in the middle of a batch of 1,000 reminders: after a restart every
reminder is sent exactly once, counted in the fake provider's log.

Real processes on a real broker: a Celery worker on a queue of this test's own, against the
test database (a transactional test, so the worker sees what the test wrote), and the file SMS
backend as the provider, which honours our idempotency key as a real one would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from leads.models import Person
from leads.outreach.backends import FileSmsBackend
from leads.outreach.models import OutboundMessage, OutreachSettings
from leads.outreach.quiet_hours import is_daytime, zone_of_postal_code
from leads.outreach.services.sending import (
    SENDING_LEASE,
    message_queue,
    messages_requeue_stale,
    messages_resume_sending,
)
from tests.conftest import World
from tests.ops.helpers import BASE_DIR, PYTHON, env
from tests.ops.workers import tasks_to
from trialsnest.audit.services import Actor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUEUE = f"test-reminders-{uuid.uuid4().hex}"
REMINDERS = 1_000
Status = OutboundMessage.Status


def _daytime_place() -> tuple[str, str]:
    """(ZIP code, phone prefix) of people for whom it is daytime for the next half hour (the
    worker runs on the real clock, and quiet hours would rightly hold the texts). US ZIP codes
    span UTC-11 to UTC+12 and leave 11:30-12:00 UTC uncovered; then people with no ZIP code and
    a number of no known place, whose clock is UTC (recipient_zones), are daytime."""
    now = timezone.now()
    soon = now + timedelta(minutes=30)
    for code in ("10001", "00901", "99501", "96813", "96799", "96910", "96940", "96960"):
        zone = zone_of_postal_code(code)
        if zone and is_daytime(now, zone) and is_daytime(soon, zone):
            return code, "+1312555"
    assert is_daytime(now, "UTC"), "no daytime place"
    assert is_daytime(soon, "UTC"), "no daytime place"
    return "", "+1555555"


@pytest.fixture
def provider(settings, tmp_path: Path) -> FileSmsBackend:
    path = tmp_path / "sms.jsonl"
    settings.SMS_URL = f"file://{path}"
    return FileSmsBackend(path)


@pytest.fixture
def start_worker(tmp_path: Path, provider: FileSmsBackend) -> Iterator[object]:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "trialsnest", "worker", "--pool=solo",
             "--loglevel=WARNING", "-Q", QUEUE, "-n", f"{name}@%h"],
            cwd=BASE_DIR,
            env=env(
                DJANGO_SETTINGS_MODULE="tests.settings",
                DATABASE_URL=database_url,  # pytest-django's test database
                SMS_URL=f"file://{provider.path}",
                OUTREACH_SENDING_LEASE_SECONDS=str(LEASE_SECONDS),
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _queue_reminders(world: World) -> None:
    postal_code, prefix = _daytime_place()
    people = Person.objects.bulk_create(
        Person(
            organization_id=world.org_a.pk,
            first_name="Pat",
            last_name=f"Reminder{i}",
            phone=f"{prefix}{i:04d}",
            postal_code=postal_code,
            consent_sms=True,
        )
        for i in range(REMINDERS)
    )
    for person in people:
        message_queue(
            person=person,
            channel="sms",
            body="Reminder: your visit is tomorrow at 10:00. Reply STOP to opt out.",
            actor=Actor(user=None),
            idempotency_key=f"visit-reminder:test:{person.pk}:48h",
        )


# The workers' and this process's lease: a claim the dead worker left is past it within
# seconds, on the real clock the second worker reads.
LEASE_SECONDS = 2


def _log_lines(provider: FileSmsBackend) -> int:
    return len(provider.path.read_text().splitlines()) if provider.path.exists() else 0


def test_reminders_whose_worker_is_killed_mid_batch_are_each_sent_exactly_once(
    world: World, start_worker, provider: FileSmsBackend, settings
) -> None:
    settings.OUTREACH_SENDING_LEASE_SECONDS = LEASE_SECONDS
    OutreachSettings.objects.create(organization=world.org_a, sms_number="+13125550000")
    with tasks_to(QUEUE, routes="leads.*"):
        _queue_reminders(world)  # 1,000 tasks wait on the broker
        first = start_worker("first")
        deadline = time.monotonic() + 90
        while _log_lines(provider) < REMINDERS // 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        sent_before = _log_lines(provider)
        assert REMINDERS // 5 <= sent_before < REMINDERS  # killed in the middle

        start_worker("second")
        # The beat's scans, run here with the clock past their waits: a message the dead
        # worker had claimed goes again with the same key; one whose task it took goes again.
        later = timezone.now() + SENDING_LEASE + timedelta(minutes=5)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            messages_resume_sending(now=later)
            messages_requeue_stale(now=later)
            if not OutboundMessage.objects.exclude(status=Status.SENT).exists():
                break
            time.sleep(0.5)

    by_status = Counter(OutboundMessage.objects.values_list("status", flat=True))
    assert by_status == {Status.SENT: REMINDERS}
    lines = provider.sent()
    assert len(lines) == REMINDERS  # the provider's log: each reminder once
    assert len({line["to"] for line in lines}) == REMINDERS
    assert Counter(line["key"] for line in lines).most_common(1)[0][1] == 1
    ids = set(OutboundMessage.objects.values_list("provider_id", flat=True))
    assert ids == {line["id"] for line in lines}
