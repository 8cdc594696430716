"""Every leads task: a thin adapter that takes ids and calls one service (DESIGN.md).

Each is safe to run twice; services enqueue them by name (trialsnest.ops.outbox).
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from leads.automation.tasks import (
    claim_digests,
    close_unreachable_leads,
    notify_due_leads,
    scan_sla_targets,
    send_digest,
    sweep_stale_leads,
)
from leads.intake.csv.runner import csv_import_resume_stale, csv_import_run
from leads.intake.csv.scrub import import_file_forget, import_lines_erase
from leads.intake.submissions import submission_process
from leads.models import Submission
from leads.outreach.tasks import deliver_message, release_held_messages
from trialsnest.celery import durable_task
from trialsnest.ops.outbox import enqueue_swept

# Past this age a submission that still fails needs a person, not another retry.
RETRY_FOR = timedelta(days=7)
RETRY_BATCH = 500
# Outreach and automation keep their tasks in packages of their own; named here so that
# autodiscovery finds them.
__all__ = [
    "claim_digests",
    "close_unreachable_leads",
    "deliver_message",
    "notify_due_leads",
    "release_held_messages",
    "scan_sla_targets",
    "send_digest",
    "sweep_stale_leads",
]


@durable_task()
def process_submission(submission_id: int) -> bool:
    """Intake of one kept submission (any door); True once it is a lead (now or before)."""
    processed = submission_process(submission_id=submission_id)
    return processed is not None and processed.submission.processed_at is not None


@shared_task
def retry_submissions() -> int:
    """Beat, every 5 minutes: another try for each submission not yet a lead. Web form ones
    are queued as they arrive, so this catches any whose processing (or queueing) failed."""
    pending = list(
        Submission.objects.filter(
            processed_at__isnull=True, received_at__gte=timezone.now() - RETRY_FOR
        )
        .order_by("received_at")
        .values_list("id", flat=True)[:RETRY_BATCH]
    )
    for submission_id in pending:
        enqueue_swept("leads.tasks.process_submission", submission_id)
    return len(pending)


@durable_task()
def import_csv(import_id: int) -> str:
    """Check or write a CSV import, or carry on where a dead worker stopped (csv_import_run)."""
    return csv_import_run(import_id=import_id)


@shared_task
def resume_csv_imports() -> int:
    """Beat, every minute: imports whose worker died go to another (csv_import_resume_stale)."""
    return csv_import_resume_stale()


@durable_task()
def erase_import_lines(import_id: int, lines: list[int]) -> int:
    """An erased person's lines in an import's original file (leads.erasure)."""
    return import_lines_erase(import_id=import_id, lines=lines)


@durable_task()
def forget_replaced_import_file(import_id: int, name: str) -> bool:
    """The file erase_import_lines replaced, deleted once the new one is in place."""
    return import_file_forget(import_id=import_id, name=name)
