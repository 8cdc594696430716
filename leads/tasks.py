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
def process_api_submission(submission_id: int) -> bool:
    """Another try for an API submission that was kept unprocessed."""
    from leads.api import submission_retry

    return submission_retry(submission_id) is not None


@shared_task
def retry_submissions() -> int:
    """Beat, every 5 minutes: another try for each submission (web form or API) not yet a
    lead. Web form ones are queued as they arrive, so this catches any whose processing failed."""
    pending = list(
        Submission.objects.filter(
            processed_at__isnull=True, received_at__gte=timezone.now() - RETRY_FOR
        )
        .order_by("received_at")
        .values_list("id", "channel")[:RETRY_BATCH]
    )
    for submission_id, channel in pending:
        if channel == Submission.Channel.API:
            process_api_submission.delay(submission_id)
        else:
            process_submission.delay(submission_id)
    return len(pending)
