"""A record of every periodic job's run (trialsnest.ops.models.JobRun).

`job_run("stale_sweep")` wraps a job: the job adds its counts to the dict it is given, and the
run is written when the job ends, failed or not, outside the job's own transaction (a failure
rolls back the job's changes, never the record that it failed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from trialsnest.ops.models import JobRun

KEEP_RUNS = 200  # per job: enough for the job page, small enough never to need a sweep


@contextmanager
def job_run(job: str) -> Iterator[dict[str, int]]:
    started, clock = timezone.now(), time.monotonic()
    changed: dict[str, int] = {}
    error = ""
    try:
        yield changed
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
        raise
    finally:
        JobRun.objects.create(
            job=job,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            changed=changed,
            error=error,
        )
        old = JobRun.objects.filter(job=job).order_by("-started_at").values("pk")[KEEP_RUNS:]
        JobRun.objects.filter(pk__in=old).delete()


def recent_runs(limit: int = 50) -> list[JobRun]:
    return list(JobRun.objects.order_by("-started_at")[:limit])
