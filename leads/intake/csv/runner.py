"""The worker's part of a CSV import, built to survive the worker being killed.

A worker claims the import with a lease (a conditional UPDATE: two workers never hold it at
once), checks every row once and keeps each with its outcome (CsvImportRow), then, after a
person confirms, writes the rows in chunks of CSV_IMPORT_CHUNK_ROWS, one transaction each,
renewing the lease with every chunk. Each chunk first locks the import and checks that the
lease is still its own, so a worker presumed dead that wakes up writes nothing.

A worker that dies leaves a lease that runs out. `csv_import_resume_stale` (the beat task,
every minute) frees it and queues the import again; whoever claims it next carries on after
the last committed chunk: a written row is never written again. Past CSV_IMPORT_MAX_ATTEMPTS
claims the import fails with the reason, and a person may retry it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from leads.intake.csv.matching import Newcomers, plan, recheck, summary
from leads.intake.csv.reader import Row, check_row, decode, read_rows
from leads.intake.csv.writer import (
    LEADING,
    reserve,
    store_changes,
    store_rows,
    take_chunk,
    write,
)
from leads.models import CsvImport, CsvImportRow, Person
from leads.services.assignment import owners_for
from trialsnest.audit.services import audit_record
from trialsnest.lib.db import advisory_lock
from trialsnest.ops.outbox import enqueue
from trialsnest.tenancy.models import Membership

logger = logging.getLogger(__name__)
State = CsvImport.State
Outcome = CsvImportRow.Outcome
TASK = "leads.tasks.import_csv"


class LeaseLost(Exception):
    """Another worker has the import now: this one was presumed dead, or the mapping changed."""


def lease() -> timedelta:
    return timedelta(seconds=settings.CSV_IMPORT_LEASE_SECONDS)


def csv_import_run(*, import_id: int, max_chunks: int | None = None) -> str:
    """Do whatever the import needs a worker for next: check its rows, or write them.

    Safe to run any number of times, at once or after a worker died. `max_chunks` stops
    after that many written chunks, keeping the lease as a dying worker would (tests).
    """
    owner = _claim(import_id)
    if owner is None:
        return "not due"  # another worker has it, it waits for a person, or it is over
    imp = CsvImport.objects.select_related("study_site__site", "uploaded_by").get(pk=import_id)
    try:
        if imp.analyzed_at is None:
            _analyze(imp, owner)
            if imp.state == State.ANALYZED:
                return "analyzed"  # a person confirms before anything is written
        return _write(imp, owner, max_chunks)
    except LeaseLost:
        return "lease lost"
    except Exception as exc:
        # The message names lines and columns, never cell values.
        logger.exception("CSV import %s failed", imp.code)
        CsvImport.objects.filter(pk=imp.pk, lease_owner=owner).update(
            state=State.FAILED,
            error=str(exc)[:500],
            lease_owner=None,
            lease_until=None,
            finished_at=timezone.now(),
        )
        return "failed"


def _claim(import_id: int) -> uuid.UUID | None:
    owner, now = uuid.uuid4(), timezone.now()
    claimed = (
        CsvImport.objects.filter(
            pk=import_id, state__in=CsvImport.ACTIVE, attempts__lt=settings.CSV_IMPORT_MAX_ATTEMPTS
        )
        .filter(Q(lease_owner__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=owner, lease_until=now + lease(), attempts=F("attempts") + 1)
    )
    return owner if claimed else None


@contextmanager
def _holding(imp: CsvImport, owner: uuid.UUID) -> Iterator[CsvImport]:
    """One chunk's transaction, on the import locked and still leased to `owner`; the lease
    is renewed when the chunk is done."""
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            # Safe to commit without waiting for the disk: a chunk's rows and its progress
            # commit together, so a database crash loses whole chunks, which are written again.
            cursor.execute("SET LOCAL synchronous_commit TO off")
        locked = CsvImport.objects.select_for_update().get(pk=imp.pk)
        if locked.lease_owner != owner:
            raise LeaseLost
        yield locked
        if locked.lease_owner == owner:  # not released by the chunk
            locked.lease_until = timezone.now() + lease()
        locked.save()


def _columns(imp: CsvImport) -> dict[str, int]:
    return {k: int(v) for k, v in imp.mapping.get("columns", {}).items()}


# Checking ----------------------------------------------------------------------------------

PROGRESS_ROWS = 10_000


def _analyze(imp: CsvImport, owner: uuid.UUID) -> None:
    """Check every row, decide its outcome and reserve its ids, and keep them all in one
    transaction: a worker that dies here leaves nothing, and the next one starts over."""
    with imp.file.open("rb") as handle:
        text = decode(handle.read())
    header, lines = read_rows(text)
    columns, today = _columns(imp), timezone.localdate()
    rows: list[Row] = []
    for line, cells in lines:
        rows.append(check_row(line, cells, columns, today))
        if len(rows) % PROGRESS_ROWS == 0:
            _progress(imp, owner, len(rows))
    del text
    newest = Person.objects.aggregate(newest=Max("pk"))["newest"] or 0
    plan(rows, imp.study_site)
    with _holding(imp, owner) as locked:
        reserve(rows)
        CsvImportRow.objects.filter(csv_import_id=imp.pk).delete()
        store_rows(imp.pk, rows)
        counts = summary(rows)
        locked.header, locked.planned, locked.checked_person_id = header, counts, newest
        locked.total_rows, locked.processed_rows = len(rows), 0
        locked.analyzed_at = timezone.now()
        if locked.state == State.ANALYZING:
            # A person looks at the preview before anything is written.
            locked.state, locked.lease_owner, locked.lease_until = State.ANALYZED, None, None
            locked.processed_rows = len(rows)  # all checked (the page says so)
        imp.state, imp.analyzed_at = locked.state, locked.analyzed_at
        imp.checked_person_id = newest


def _progress(imp: CsvImport, owner: uuid.UUID, rows: int) -> None:
    """Rows checked so far, for the page; renews the lease, or stops if it is gone."""
    if not CsvImport.objects.filter(pk=imp.pk, lease_owner=owner).update(
        processed_rows=rows, lease_until=timezone.now() + lease()
    ):
        raise LeaseLost


# Writing -----------------------------------------------------------------------------------


def _write(imp: CsvImport, owner: uuid.UUID, max_chunks: int | None) -> str:
    chunks, owners = 0, _Owners(imp)
    newcomers: Newcomers | None = None
    while max_chunks is None or chunks < max_chunks:
        with _holding(imp, owner) as locked:
            locked.state = State.RUNNING
            rows = take_chunk(imp.pk, locked.written_through, settings.CSV_IMPORT_CHUNK_ROWS)
            if not rows:
                _finish(locked)
                return "done"
            # Imports of one organization write one chunk at a time: each sees the people
            # the other wrote.
            advisory_lock(f"csv-import:{imp.organization_id}")
            if newcomers is None:
                newcomers = _newcomers(imp)
            before = [_decided(row) for row in rows]
            recheck(rows, study_site=imp.study_site, newcomers=newcomers)
            leading = sum(1 for row in rows if row.outcome in LEADING)
            write(
                rows=rows,
                study_site=imp.study_site,
                source=imp.source,
                campaign=imp.campaign,
                consent=list(imp.mapping.get("consent", [])),
                actor_id=imp.uploaded_by_id,
                import_code=str(imp.code),
                import_id=imp.pk,
                owners=owners.take(leading, rows[-1].line),
            )
            store_changes(
                imp.pk, [r for r, b in zip(rows, before, strict=True) if _decided(r) != b]
            )
            counts = summary(rows)
            for outcome in Outcome.values:
                setattr(locked, outcome, getattr(locked, outcome) + counts[outcome])
            locked.processed_rows = min(locked.total_rows, locked.processed_rows + len(rows))
            locked.written_through = rows[-1].line
        chunks += 1
    return "stopped"


def _newcomers(imp: CsvImport) -> Newcomers:
    after = imp.checked_person_id or 0
    # The people this import writes itself are not matches for its own rows.
    ours = set(
        CsvImportRow.objects.filter(csv_import_id=imp.pk, person_id__gt=after).values_list(
            "person_id", flat=True
        )
    )
    return Newcomers(imp.organization_id, after, ours)


def _decided(row: Row) -> tuple[object, ...]:
    return (row.outcome, row.reason, row.matched_person_id, row.matched_lead_id, row.person_id,
            row.lead_id)  # fmt: skip


class _Owners:
    """The owners of the leads still to write, by the fair rule, chosen once per run (not per
    chunk: choosing counts every open lead of every candidate) and handed out in order."""

    def __init__(self, imp: CsvImport) -> None:
        self.imp = imp
        self.queue: list[Membership] = []

    def take(self, count: int, after_line: int) -> list[Membership]:
        """`count` owners for the chunk ending at `after_line`."""
        if count > len(self.queue):
            # The leads after this chunk, and this chunk's.
            rest = CsvImportRow.objects.filter(
                csv_import_id=self.imp.pk, line__gt=after_line, outcome__in=LEADING
            ).count()
            self.queue = owners_for(self.imp.study_site, count + rest)
        taken, self.queue = self.queue[:count], self.queue[count:]
        return taken


def _finish(locked: CsvImport) -> None:
    locked.state, locked.finished_at = State.DONE, timezone.now()
    locked.lease_owner, locked.lease_until = None, None
    audit_record(
        action="csv_import.completed",
        actor=locked.uploaded_by,
        organization_id=locked.organization_id,
        obj=locked,
        changes={
            name: {"old": None, "new": getattr(locked, name)}
            for name in ("total_rows", "created", "attached", "suspected", "skipped", "rejected")
        },
    )


# Resuming ----------------------------------------------------------------------------------


def csv_import_resume_stale() -> int:
    """The beat task's scan: each import a worker owes work to whose lease ran out (its worker
    died, or its message was lost) is freed and queued again; past CSV_IMPORT_MAX_ATTEMPTS
    claims it fails instead, with the reason. Answers how many were queued."""
    now = timezone.now()
    stale = CsvImport.objects.filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True), state__in=CsvImport.ACTIVE
    )
    limit = settings.CSV_IMPORT_MAX_ATTEMPTS
    stale.filter(attempts__gte=limit).update(
        state=State.FAILED,
        error=(
            f"The import was interrupted {limit} times (its worker stopped each time) and "
            "gave up. Everything written before is kept; Retry carries on from there."
        ),
        lease_owner=None,
        lease_until=None,
        finished_at=now,
    )
    queued = 0
    for pk in stale.filter(attempts__lt=limit).values_list("pk", flat=True):
        # Free for any worker. One that only lagged loses the import at its next chunk.
        if stale.filter(pk=pk).update(lease_owner=None, lease_until=now + lease()):
            enqueue(TASK, pk)
            queued += 1
    return queued
