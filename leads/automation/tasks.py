"""Beat's lead-side jobs: thin adapters over leads.automation (each safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from leads.automation.cadence import cadence_close
from leads.automation.digest import digest_send, digests_claim
from leads.automation.due import due_notify
from leads.automation.sla import sla_scan
from leads.automation.stale import stale_sweep
from trialsnest.celery import durable_task


@shared_task
def sweep_stale_leads() -> int:
    """Beat, every 10 minutes: mark the leads that turned stale (ids and counts only)."""
    return stale_sweep()


@shared_task
def close_unreachable_leads() -> int:
    """Beat, every minute: close the leads whose cadence and final wait ran out."""
    return cadence_close()


@shared_task
def scan_sla_targets() -> list[int]:
    """Beat, every 5 minutes: flag missed SLA targets and escalate the overdue flags."""
    return list(sla_scan())


@shared_task
def notify_due_leads() -> int:
    """Beat, every minute: owners hear of their leads falling due in the next minutes."""
    return due_notify()


@shared_task
def claim_digests() -> int:
    """Beat, every 5 minutes: claim the morning digests that came due (one a member a day)."""
    return digests_claim()


@durable_task()
def send_digest(claim_id: int) -> bool:
    """Send one claimed digest (ids only; safe to run twice)."""
    return digest_send(claim_id=claim_id)
