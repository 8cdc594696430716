"""What a lead's record items mean for the lead: its blocker, its next action, and the move to
ready to schedule. Every change goes through the leads services, so the lead's invariant, its
timeline and its audit rows hold as for any other change.

Only the checklist's required items (not archived) drive the lead; optional ones are tracked
but hold nothing back.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from leads.models import ActionKind, Blocker, Lead, Status
from leads.services import lead_change_status, lead_set_blocker, lead_set_next_action
from records.dates import overdue_from
from records.models import ItemState, RecordItem
from trialsnest.audit.services import Actor

READY_REASON = "Every required record reviewed: sufficient."


def required_items(lead: Lead) -> list[RecordItem]:
    return list(
        RecordItem.objects.filter(
            lead=lead, requirement__required=True, requirement__archived_at__isnull=True
        )
    )


def records_ready(items: list[RecordItem]) -> bool:
    """The records-ready rule: there is something required, and all of it is reviewed
    sufficient."""
    return bool(items) and all(item.state == ItemState.REVIEWED for item in items)


def _plan(lead: Lead, items: list[RecordItem], now: datetime) -> tuple[str, datetime]:
    """The next action the items call for: review what came in, request what is needed, and
    otherwise chase the request that falls overdue first, when it does."""
    states = {item.state for item in items}
    for state, kind in (
        (ItemState.RECEIVED, ActionKind.REVIEW_RECORDS),
        (ItemState.NEEDED, ActionKind.REQUEST_RECORDS),
    ):
        if state in states:
            # Already the plan: keep its due time (each write must not push it later).
            due = lead.next_action_due_at if lead.next_action == kind else None
            return kind, due or now
    dues = [item.due_on for item in items if item.state == ItemState.REQUESTED and item.due_on]
    return ActionKind.CHASE_RECORDS, overdue_from(lead.study_site.site, min(dues))


def lead_records_sync(*, lead: Lead, actor: Actor, current: bool = False) -> Lead:
    """Bring the lead in line with its items. Call inside the transaction of the item's change,
    with the lead locked (records.services.items does); `current` when `lead` is the row just
    saved in this transaction (no need to read it again)."""
    if not current:
        lead = Lead.objects.select_related("study_site__site").get(pk=lead.pk)
    if lead.status != Status.RECORDS_PENDING:
        return lead
    items = required_items(lead)
    if not items:
        return lead  # no checklist: the records step is the coordinator's to move by hand
    if records_ready(items):
        return lead_change_status(
            lead=lead, status=Status.RECORDS_READY, actor=actor, reason=READY_REASON
        )
    outstanding = any(item.state == ItemState.REQUESTED for item in items)
    if lead.blocker != Blocker.STUDY_PAUSED:
        if outstanding and lead.blocker != Blocker.MISSING_RECORDS:
            lead = lead_set_blocker(lead=lead, blocker=Blocker.MISSING_RECORDS, actor=actor)
        elif not outstanding and lead.blocker == Blocker.MISSING_RECORDS:
            lead = lead_set_blocker(lead=lead, blocker="", actor=actor)
    kind, due = _plan(lead, items, timezone.now())
    if (lead.next_action, lead.next_action_due_at) != (kind, due):
        lead = lead_set_next_action(lead=lead, kind=kind, due_at=due, actor=actor)
    return lead
