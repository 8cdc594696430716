"""Lead tasks. Each takes ids, calls a service and is safe to run twice (DESIGN.md)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from leads.models import Submission
from leads.public import submission_process

# Past this age a submission that still fails needs a person, not another retry.
RETRY_FOR = timedelta(days=7)
RETRY_BATCH = 500


@shared_task
def process_submission(submission_id: int) -> bool:
    """Intake of one web form submission; True once it is a lead (now or before)."""
    return submission_process(submission_id=submission_id) is not None


@shared_task
def retry_submissions() -> int:
    """Beat, every 5 minutes: another try for each web form submission not yet a lead."""
    ids = list(
        Submission.objects.filter(
            channel=Submission.Channel.WEB_FORM,
            processed_at__isnull=True,
            received_at__gte=timezone.now() - RETRY_FOR,
        )
        .order_by("received_at")
        .values_list("id", flat=True)[:RETRY_BATCH]
    )
    for submission_id in ids:
        process_submission.delay(submission_id)
    return len(ids)
