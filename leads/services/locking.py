"""Optimistic concurrency for leads: every change is based on the version the user saw.

A change locks the lead's row, refuses with LeadConflict when someone saved a newer version
meanwhile (listing what they did), and saves with a version bump, the queue times refreshed
and an audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from leads.models import Activity, Lead
from leads.services.policies import policy_for, refresh_attention
from trialsnest.audit.services import Actor, audit_record, changed_fields

# The lead's own fields that its audit rows compare.
LEAD_FIELDS = (
    "status",
    "owner_id",
    "blocker",
    "blocker_text",
    "next_action",
    "next_action_due_at",
    "close_reason",
    "attempts",
    "snoozed_until",
)


class LeadConflict(Exception):
    """Someone saved this lead after the version the user was looking at."""

    def __init__(self, lead: Lead, seen_version: int, changes: list[Activity]) -> None:
        super().__init__("This lead was changed by someone else while you were looking at it.")
        self.lead = lead
        self.seen_version = seen_version
        self.changes = changes


def lead_lock(lead: Lead, seen_version: int | None) -> Lead:
    """The lead's current row, locked for this transaction; LeadConflict if it moved on."""
    current = (
        Lead.objects.select_for_update(of=("self",))
        # Everything a change reads besides the row: its policy (SLA, cadence) and its owner.
        .select_related("study_site__site", "study_site__policy", "person", "owner")
        .get(pk=lead.pk)
    )
    if seen_version is not None and current.version != seen_version:
        changes = list(
            current.activities.filter(data__version__gt=seen_version)
            .select_related("actor")
            .order_by("at", "id")
        )
        raise LeadConflict(current, seen_version, changes)
    return current


def lead_snapshot(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in LEAD_FIELDS}


def lead_save(
    lead: Lead, before: dict[str, Any], actor: Actor, action: str, reason: str = ""
) -> None:
    """Save a locked lead as the next version, with its audit row."""
    lead.version += 1
    refresh_attention(lead, policy_for(lead.study_site))
    lead.save()
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes=changed_fields(old=before, new=lead_snapshot(lead)),
        reason=reason,
        request=actor.request,
    )
