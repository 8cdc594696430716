"""A CSV import survives its worker: written in chunks, each committed with its progress; a
stopped run carries on from the last chunk, the beat task hands an import whose lease ran out
to another worker, and after too many interruptions it fails with the reason and a Retry.

A worker "dies" here by stopping after one chunk (`max_chunks`), keeping its lease as a killed
process would; tests/ops/test_worker_killed.py kills a real one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from leads.intake.csv.runner import csv_import_run
from leads.models import CsvImport, CsvImportRow, Lead, Person
from leads.tasks import resume_csv_imports
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Membership, Role

State = CsvImport.State
ROWS = 35  # four chunks of 10


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.CSV_IMPORT_CHUNK_ROWS = 10
    settings.CSV_IMPORT_LEASE_SECONDS = 120
    settings.CSV_IMPORT_MAX_ATTEMPTS = 3


def _data(known: Person | None = None) -> bytes:
    lines = ["name,phone"] + [f"Pat{i} Lee,(303) 555-{i:04d}" for i in range(ROWS - 1)]
    lines.append(f"{known.first_name} {known.last_name},{known.phone}" if known else "Cy,12")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def started(world: World, django_capture_on_commit_callbacks):
    """An import checked and started; its writing waits for a worker (not run here)."""

    def start(data: bytes) -> CsvImport:
        client = signed_in(world.site_lead.user)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("import_new"),
                {
                    "file": SimpleUploadedFile("list.csv", data, content_type="text/csv"),
                    "study_site": world.study_site_a.pk,
                    "source": "vendor_list",
                },
            )
        imp = CsvImport.objects.get()
        with django_capture_on_commit_callbacks(execute=False):
            client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})
        imp.refresh_from_db()
        assert imp.state == State.QUEUED
        return imp

    return start


def _later(seconds: int = 121) -> time_machine.travel:
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=True)


def _assert_imported_once(imp: CsvImport) -> None:
    imp.refresh_from_db()
    assert imp.state == State.DONE
    rows = CsvImportRow.objects.filter(csv_import=imp)
    assert rows.count() == ROWS
    assert imp.written_through == rows.aggregate(last=Max("line"))["last"]  # every line written
    assert imp.created + imp.attached + imp.suspected + imp.skipped + imp.rejected == ROWS
    # No person and no lead twice: one person per phone, one lead per person for the study.
    assert not Person.objects.values("phone").annotate(n=Count("id")).filter(n__gt=1).exists()
    leads = Lead.objects.filter(study_site=imp.study_site)
    assert not leads.values("person").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert leads.count() == imp.created + imp.attached


def test_a_run_that_stopped_after_a_chunk_carries_on_from_it_and_writes_nothing_twice(
    world: World, started
):
    imp = started(_data())
    assert csv_import_run(import_id=imp.pk, max_chunks=1) == "stopped"
    imp.refresh_from_db()
    assert (imp.state, imp.written_through, imp.processed_rows) == (State.RUNNING, 11, 10)
    assert Lead.objects.count() == 10
    first_chunk = set(Lead.objects.values_list("pk", flat=True))

    # The lease of the "dead" worker still holds: nobody else may write.
    assert csv_import_run(import_id=imp.pk) == "not due"
    with _later():
        assert csv_import_run(import_id=imp.pk) == "done"

    _assert_imported_once(imp)
    assert (imp.created, imp.rejected, imp.attempts) == (34, 1, 2)
    assert first_chunk < set(Lead.objects.values_list("pk", flat=True))
    assert AuditEvent.objects.filter(action="lead.created").count() == 34


def test_the_beat_task_gives_an_import_whose_lease_ran_out_to_another_worker(
    world: World, started, django_capture_on_commit_callbacks
):
    imp = started(_data(known=new_lead(study_site=world.study_site_a2).person))
    csv_import_run(import_id=imp.pk, max_chunks=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert resume_csv_imports() == 0  # its worker may still be at work

    with _later(), django_capture_on_commit_callbacks(execute=True):
        assert resume_csv_imports() == 1  # queued again, and run (eagerly) by "a worker"

    _assert_imported_once(imp)
    assert (imp.created, imp.attached, imp.attempts) == (34, 1, 2)
    page = signed_in(world.site_lead.user).get(reverse("import_detail", kwargs={"code": imp.code}))
    assert "resumed after an interruption" in page.content.decode()


def test_an_import_interrupted_too_often_fails_with_the_reason_and_retry_carries_on(
    world: World, started, django_capture_on_commit_callbacks
):
    imp = started(_data())
    for minutes in (0, 3, 6):  # three workers, each dies after one chunk
        with _later(minutes * 60 + 1):
            assert csv_import_run(import_id=imp.pk, max_chunks=1) == "stopped"
    with _later(9 * 60):
        assert csv_import_run(import_id=imp.pk) == "not due"  # three attempts are enough
        resume_csv_imports()
    imp.refresh_from_db()
    assert imp.state == State.FAILED
    assert "interrupted 3 times" in imp.error
    assert Lead.objects.count() == 30  # what was written stays

    client = signed_in(world.site_lead.user)
    page = client.get(reverse("import_detail", kwargs={"code": imp.code})).content.decode()
    assert "interrupted 3 times" in page
    assert reverse("import_retry", kwargs={"code": imp.code}) in page
    assert client.get(reverse("import_retry", kwargs={"code": imp.code})).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_retry", kwargs={"code": imp.code}))

    _assert_imported_once(imp)
    assert imp.attempts == 1
    retried = AuditEvent.objects.get(action="csv_import.retried", object_id=str(imp.code))
    assert retried.actor == world.site_lead.user
    assert retried.changes["state"] == {"old": "failed", "new": "queued"}


def test_a_failure_shows_its_reason_and_retry_writes_only_what_is_missing(
    world: World, started, django_capture_on_commit_callbacks
):
    imp = started(_data())
    csv_import_run(import_id=imp.pk, max_chunks=1)
    # Nobody may own the rest of the leads now: the next chunk fails, and says why.
    owners = Membership.objects.filter(organization=world.org_a)
    owners.update(is_active=False)
    with _later():
        assert csv_import_run(import_id=imp.pk) == "failed"
    imp.refresh_from_db()
    assert imp.state == State.FAILED
    assert "Nobody in the organization can own leads" in imp.error
    owners.update(is_active=True)
    page = signed_in(world.site_lead.user).get(reverse("import_detail", kwargs={"code": imp.code}))
    assert "The first 10 rows were imported and stay" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.site_lead.user).post(reverse("import_retry", kwargs={"code": imp.code}))
    _assert_imported_once(imp)


def test_only_a_failed_import_can_be_retried(world: World, started):
    imp = started(_data())
    response = signed_in(world.site_lead.user).post(
        reverse("import_retry", kwargs={"code": imp.code}), follow=True
    )
    assert "Only a failed import can be retried" in response.content.decode()
    assert not AuditEvent.objects.filter(action="csv_import.retried").exists()


def test_a_worker_dying_while_it_checks_the_rows_leaves_them_checked_from_the_top(
    world: World, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    client.post(  # the check is queued, not run: its worker "dies" before it starts
        reverse("import_new"),
        {
            "file": SimpleUploadedFile("list.csv", _data(), content_type="text/csv"),
            "study_site": world.study_site_a.pk,
            "source": "vendor_list",
        },
    )
    imp = CsvImport.objects.get()
    with _later(), django_capture_on_commit_callbacks(execute=True):
        assert resume_csv_imports() == 1
    imp.refresh_from_db()
    assert imp.state == State.ANALYZED
    assert CsvImportRow.objects.filter(csv_import=imp).count() == ROWS
    assert imp.planned["created"] == 34


def test_an_import_left_running_by_an_older_version_is_checked_and_finished(
    world: World, django_capture_on_commit_callbacks
):
    """Before the rows were kept, an import killed mid-way stayed "running" forever."""
    client = signed_in(world.site_lead.user)
    client.post(
        reverse("import_new"),
        {
            "file": SimpleUploadedFile("list.csv", _data(), content_type="text/csv"),
            "study_site": world.study_site_a.pk,
            "source": "vendor_list",
        },
    )
    imp = CsvImport.objects.get()
    CsvImport.objects.filter(pk=imp.pk).update(
        state=State.RUNNING, consent_attested=True, processed_rows=10_000, lease_until=None,
        header=[],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert resume_csv_imports() == 1
    _assert_imported_once(imp)


def test_the_progress_panel_asks_for_the_whole_page_once_the_import_moved_on(world: World, started):
    imp = started(_data())
    client = signed_in(world.site_lead.user)
    url = reverse("import_progress", kwargs={"code": imp.code})
    assert "Importing" in client.get(url, headers={"HX-Request": "true"}).content.decode()
    csv_import_run(import_id=imp.pk)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"


def test_a_coordinator_who_joined_while_an_import_was_interrupted_gets_leads_from_the_rest(
    world: World, started
):
    """Owners are chosen by the fair rule when a worker starts writing, for what is left."""
    imp = started(_data())
    csv_import_run(import_id=imp.pk, max_chunks=1)
    newcomer = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    newcomer.restricted_study_sites.set([world.study_site_a])
    with _later():
        csv_import_run(import_id=imp.pk)
    assert Lead.objects.filter(owner=newcomer).count() >= 10


def test_beat_looks_for_imports_whose_worker_died_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["resume-csv-imports"]

    assert entry == {"task": resume_csv_imports.name, "schedule": 60.0}
