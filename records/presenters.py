"""Display strings of the records app: a queue row's reason, the lead page's panel rows."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from leads.models import Lead
from records.dates import site_today
from records.models import ItemState, RecordItem
from records.selectors import lead_items, outstanding_requests


def days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def due_text(due_on: datetime.date, today: datetime.date) -> str:
    """ "overdue 3 days", "due today", "due in 2 days"."""
    if due_on < today:
        return f"overdue {days((today - due_on).days)}"
    if due_on == today:
        return "due today"
    return f"due in {days((due_on - today).days)}"


def queue_reasons(leads: list[Lead], tab: str, now: datetime.datetime) -> dict[int, str]:
    """The Waiting on records tab says, for each lead with an outstanding request, how overdue
    the first one is and from whom: "records overdue 3 days · Denver Family Practice"."""
    if tab != "records" or not leads:
        return {}
    requests = outstanding_requests(lead.pk for lead in leads)
    reasons = {}
    for lead in leads:
        if lead.pk in requests:
            due_on, practice = requests[lead.pk]
            today = site_today(lead.study_site.site, now)
            reasons[lead.pk] = f"records {due_text(due_on, today)} · {practice}"
    return reasons


def item_row(item: RecordItem, today: datetime.date) -> dict[str, Any]:
    """One item of the panel, as plain strings."""
    requirement = item.requirement
    detail = ""
    if item.state == ItemState.REQUESTED:
        assert item.due_on is not None
        assert item.provider is not None
        detail = f"from {item.provider.practice} by {item.get_method_display().lower()}, "
        detail += due_text(item.due_on, today)
        if item.follow_ups:
            detail += (
                f" · followed up {'once' if item.follow_ups == 1 else f'{item.follow_ups} times'}"
            )
    elif item.state in (ItemState.RECEIVED, ItemState.REVIEWED):
        detail = f"received {item.received_on:%Y-%m-%d}, dated {item.record_date:%Y-%m-%d}"
    lookback = ""
    if item.within_lookback is False:
        lookback = f"older than the {requirement.lookback_days}-day look-back window"
    elif item.within_lookback:
        lookback = f"within the {requirement.lookback_days}-day look-back window"
    return {
        "item": item,
        "code": str(item.code),
        "label": requirement.label,
        "required": requirement.required and requirement.archived_at is None,
        "state": item.state,
        "state_label": item.get_state_display(),
        "detail": detail,
        "lookback": lookback,
        "overdue": item.overdue_days(today) > 0,
        "authorization": item.authorization_on_file,
        "insufficient_reason": item.insufficient_reason,
        "actions": actions_of(item),
    }


# The panel's actions per state: (URL part, label).
ACTIONS: dict[str, list[tuple[str, str]]] = {
    ItemState.NEEDED: [("request", "Request")],
    ItemState.REQUESTED: [("receive", "Mark received"), ("follow-up", "Follow up"),
                          ("request", "Request again")],
    ItemState.RECEIVED: [("review", "Review")],
    ItemState.REVIEWED: [],
}  # fmt: skip


def actions_of(item: RecordItem) -> list[tuple[str, str]]:
    return ACTIONS[item.state]


def panel(lead: Lead, items: list[RecordItem], today: datetime.date) -> dict[str, Any]:
    rows = [item_row(item, today) for item in items]
    required = [row for row in rows if row["required"]]
    return {
        "rows": rows,
        "required": len(required),
        "reviewed": sum(row["state"] == ItemState.REVIEWED for row in required),
        "requested": any(row["state"] == ItemState.REQUESTED for row in rows),
        "open": lead.is_open,
    }


def lead_records_panel(lead: Lead) -> dict[str, Any]:
    """What the lead page's records panel shows: one query."""
    return panel(lead, lead_items(lead), site_today(lead.study_site.site, timezone.now()))
