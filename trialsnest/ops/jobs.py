"""A record of every periodic job's run (trialsnest.ops.models.JobRun).

`job_run("stale_sweep")` wraps a job: the job counts what it changed per organization
(`counts.add("marked_stale", organization_id, n)`), and the run is written when the job ends,
failed or not, outside the job's own transaction (a failure rolls back the job's changes,
never the record that it failed). A site lead's page shows only their organization's counts:
one organization never learns another's volume.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from trialsnest.ops.models import JobRun

KEEP_RUNS = 200  # per job: enough for the job page, small enough never to need a sweep


class JobCounts:
    def __init__(self) -> None:
        self.total: dict[str, int] = {}
        self.by_org: dict[str, dict[str, int]] = {}

    def add(self, name: str, organization_id: int, n: int = 1) -> None:
        self.total[name] = self.total.get(name, 0) + n
        org = self.by_org.setdefault(str(organization_id), {})
        org[name] = org.get(name, 0) + n

    def touch(self, *names: str) -> None:
        """Names counted even when nothing changed (a run that found nothing says 0)."""
        for name in names:
            self.total.setdefault(name, 0)


@contextmanager
def job_run(job: str) -> Iterator[JobCounts]:
    started, clock = timezone.now(), time.monotonic()
    counts = JobCounts()
    error = ""
    try:
        yield counts
    except Exception as exc:
        # The exception's type and first line only: a database error's detail can quote values.
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
        raise
    finally:
        JobRun.objects.create(
            job=job,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            changed={"total": counts.total, "by_org": counts.by_org},
            error=error,
        )
        old = JobRun.objects.filter(job=job).order_by("-started_at").values("pk")[KEEP_RUNS:]
        JobRun.objects.filter(pk__in=old).delete()


def recent_runs(*, organization_id: int, limit: int = 50) -> list[tuple[JobRun, dict[str, int]]]:
    """The latest runs of every job, each with what it changed in this organization."""
    runs = JobRun.objects.order_by("-started_at")[:limit]
    return [
        (run, {**dict.fromkeys(run.changed.get("total", {}), 0),
               **run.changed.get("by_org", {}).get(str(organization_id), {})})
        for run in runs
    ]  # fmt: skip
