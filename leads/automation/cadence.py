"""Closing a lead as unreachable once its cadence ran out: the last attempt went unanswered and
the StudySite's final waiting period passed (lead_log_attempt set "close as unreachable" due
then).

The job loses every race with a person. It remembers the version it saw when it scanned; under
the lead's lock it closes only that version, still due to close: a reply logged in between
moved the version (and the next action) on. A lead a person holds right now is skipped
(SKIP LOCKED), and the person's change, once committed, is movement the next scan respects.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from leads.models import OPEN_Q, ActionKind, Blocker, CloseReason, Lead, Status
from leads.services.leads import lead_change_status
from trialsnest.audit.services import Actor
from trialsnest.notifications.models import Kind
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.ops.jobs import JobCounts, job_run

BATCH = 500
SYSTEM = Actor(user=None)


def due_to_close(*, now: datetime, limit: int = BATCH) -> list[tuple[int, int]]:
    """(lead id, version) of open leads whose "close as unreachable" is due."""
    return list(
        Lead.objects.filter(
            OPEN_Q, next_action=ActionKind.CLOSE_UNREACHABLE, next_action_due_at__lte=now
        )
        .exclude(blocker=Blocker.STUDY_PAUSED)
        .order_by("next_action_due_at", "id")
        .values_list("id", "version")[:limit]
    )


def close_unreachable(
    *, lead_id: int, seen_version: int, now: datetime, counts: JobCounts | None = None
) -> bool:
    """Close one lead as unreachable if it is still the version seen and still due; True if
    closed. Safe to run twice and concurrently: a second run finds it closed or moved."""
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                OPEN_Q,
                pk=lead_id,
                version=seen_version,
                next_action=ActionKind.CLOSE_UNREACHABLE,
                next_action_due_at__lte=now,
            )
            .first()
        )
        if lead is None:
            return False
        lead_change_status(
            lead=lead,
            status=Status.CLOSED,
            close_reason=CloseReason.UNREACHABLE,
            actor=SYSTEM,
            reason=f"No answer after {lead.attempts} attempts and the final waiting period",
            version=seen_version,
        )
        if counts is not None:
            counts.add("closed_unreachable", lead.organization_id)
        if lead.owner_id is not None:
            notify_many(
                [
                    Notice(
                        organization_id=lead.organization_id,
                        recipient_id=lead.owner_id,
                        kind=Kind.CLOSED,
                        key=f"closed-unreachable:{lead.code}:{seen_version}",
                        reason="Closed as unreachable: no answer through the contact cadence",
                        lead_code=lead.code,
                    )
                ]
            )
    return True


def cadence_close(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Beat: close every lead whose cadence ran out by `now`; returns how many were closed."""
    now = now or timezone.now()
    with job_run("cadence_close") as counts:
        counts.touch("closed_unreachable")
        closed = sum(
            close_unreachable(lead_id=lead_id, seen_version=version, now=now, counts=counts)
            for lead_id, version in due_to_close(now=now, limit=limit)
        )
    return closed
