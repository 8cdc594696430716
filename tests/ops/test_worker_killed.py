"""A CSV import whose worker is killed (SIGKILL) in the middle of writing finishes once another
worker takes it up: every row in exactly one bucket, no person and no lead twice.

Real processes on a real broker: Celery workers on a queue of this test's own, against the
test database (a transactional test, so the workers see what the test wrote), with small
chunks (CSV_IMPORT_CHUNK_ROWS) and a short lease (CSV_IMPORT_LEASE_SECONDS) so the test can
kill one in the middle and see the beat task's scan hand the import on quickly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max

from leads.intake.csv.services import csv_import_start, csv_import_upload
from leads.models import CsvImport, CsvImportRow, Lead, Person, SuspectedDuplicate
from leads.tasks import resume_csv_imports
from tests.conftest import World
from tests.ops.helpers import BASE_DIR, PYTHON, env
from tests.ops.workers import tasks_to
from trialsnest.audit.services import Actor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUEUE = f"test-killed-{uuid.uuid4().hex}"
ROWS = 20_000
CHUNK = 500
LEASE = 5


def _vendor_list() -> bytes:
    """Households of three sharing a phone, a repeated line every 50, a bad phone every 1000."""
    lines = ["First name,Last name,Phone,Email,DOB"]
    for i in range(ROWS):
        n = i // 3
        phone = f"(303) {200 + n // 10_000}-{n % 10_000:04d}" if i % 1000 != 500 else "12"
        lines.append(
            f"Pat{i},Lee,{phone},p{i}@vendor.example,19{50 + i % 50}-0{1 + i % 9}-1{i % 9}"
        )
        if i % 50 == 49:
            lines.append(lines[-1])
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
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
                MEDIA_ROOT=str(settings.MEDIA_ROOT),
                CSV_IMPORT_CHUNK_ROWS=str(CHUNK),
                CSV_IMPORT_LEASE_SECONDS=str(LEASE),
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


def _wait_for(condition: Callable[[CsvImport], bool], imp: CsvImport, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        imp.refresh_from_db()
        if condition(imp):
            return
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting: {imp.state} {imp.written_through} {imp.error}")


def test_an_import_whose_worker_is_killed_finishes_on_another_without_writing_twice(
    world: World, start_worker, settings
):
    settings.CSV_IMPORT_LEASE_SECONDS = LEASE  # for the beat task's scan, run here
    actor = Actor(world.site_lead.user)
    with tasks_to(QUEUE):
        first = start_worker("first")
        imp = csv_import_upload(
            data=_vendor_list(),
            filename="vendor.csv",
            study_site=world.study_site_a,
            source="vendor_list",
            campaign="",
            actor=actor,
        )
        _wait_for(lambda i: i.state == CsvImport.State.ANALYZED, imp, 60)
        assert imp.total_rows == ROWS + ROWS // 50

        csv_import_start(imp=imp, attested=True, again=False, actor=actor)
        _wait_for(lambda i: i.written_through > 0, imp, 30)  # a chunk or more committed
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        imp.refresh_from_db()
        assert imp.state == CsvImport.State.RUNNING
        assert 0 < imp.processed_rows < imp.total_rows  # killed in the middle
        written = Lead.objects.filter(study_site=world.study_site_a).count()
        assert written > 0

        start_worker("second")
        # Nobody else may take the import while the dead worker's lease holds; then the beat
        # task's scan (run here, as beat would every minute) hands it to the second worker.
        assert resume_csv_imports() == 0
        deadline = time.monotonic() + 45
        while imp.state != CsvImport.State.DONE and time.monotonic() < deadline:
            resume_csv_imports()
            time.sleep(0.5)
            imp.refresh_from_db()

    assert imp.state == CsvImport.State.DONE, (imp.state, imp.error)
    assert imp.attempts == 2  # resumed once, by the second worker
    rows = CsvImportRow.objects.filter(csv_import=imp)
    assert rows.count() == imp.total_rows
    assert imp.written_through == rows.aggregate(last=Max("line"))["last"]  # every line written
    by_outcome = dict(rows.values_list("outcome").annotate(n=Count("id")))
    assert by_outcome == {
        name: getattr(imp, name) for name in by_outcome
    }  # the counts are the rows'
    assert sum(by_outcome.values()) == imp.total_rows
    assert by_outcome["skipped"] == ROWS // 50  # the repeated lines
    assert by_outcome["rejected"] == ROWS // 1000
    assert by_outcome["suspected"] > 0  # households
    # No person and no lead twice: each row's person once, one lead per person for the study.
    people = Person.objects.filter(organization=world.org_a)
    assert people.count() == by_outcome["created"] + by_outcome["suspected"]
    assert not people.values("email").annotate(n=Count("id")).filter(n__gt=1).exists()
    leads = Lead.objects.filter(study_site=world.study_site_a)
    assert leads.count() == by_outcome["created"] + by_outcome["suspected"] > written
    assert not leads.values("person").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert (
        SuspectedDuplicate.objects.filter(organization=world.org_a).count()
        == (by_outcome["suspected"])
    )
