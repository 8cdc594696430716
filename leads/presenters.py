"""Display strings for the queue and the lead page: a row's reason to be there, spans of time,
timeline lines, built once per row as plain strings (cheap to render fifty at a time)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from leads.actions import ROW_ACTIONS
from leads.models import (
    ActionKind,
    Activity,
    ActivityKind,
    Blocker,
    Channel,
    CloseReason,
    Direction,
    Lead,
    Outcome,
    Source,
    Status,
)


@cache
def _row_links() -> str:
    """The queue row's action links, from the registry, with `{url}` where the row's URL goes:
    built once per process (fifty rows of template loops cost more than the page's SQL)."""
    return "\n".join(
        format_html(
            '<a href="{{url}}{}/?in=queue" data-key="{}" title="{} ({})">{}</a>',
            action.key, action.hotkey, action.title, action.hotkey, action.link,
        )
        for action in ROW_ACTIONS
    )  # fmt: skip


@cache
def leads_prefix() -> str:
    """The lead page URL without its code. Row links are built from it: reversing seven URLs
    per row costs more than the page's queries."""
    placeholder = uuid.UUID(int=0)
    return reverse("lead_detail", kwargs={"code": placeholder}).removesuffix(f"{placeholder}/")


def span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days = hours // 24
    return f"{days} days"


def reason(lead: Lead, now: datetime) -> str:
    """The row's reason to be in the queue, in words, as of `now`."""
    if not lead.is_open:
        return Status(lead.status).label
    if lead.blocker == Blocker.STUDY_PAUSED:
        return "study paused: on hold until recruiting resumes"
    if lead.stale_at and lead.stale_at <= now:
        return f"no movement for {span(now - lead.last_movement_at)}"
    due = lead.next_action_due_at
    label = ActionKind(lead.next_action).label.lower() if lead.next_action else "next action"
    if due is None:
        return label
    if due <= now - timedelta(hours=1):
        return f"{label} overdue {span(now - due)}"
    if due <= now:
        return f"{label} due now"
    return f"{label} due in {span(due - now)}"


def past_sla(lead: Lead, now: datetime) -> bool:
    return lead.is_open and lead.sla_due_at is not None and lead.sla_due_at < now


def timeline_entry(activity: Activity, tz: str) -> dict[str, str]:
    """One timeline line as plain strings (fifty of them render quickly)."""
    data = activity.data
    if activity.kind == ActivityKind.CONTACT_ATTEMPT:
        direction = _label(Direction, activity.direction).lower()
        outcome = _label(Outcome, activity.outcome)
        detail = f"{_label(Channel, activity.channel)}, {direction}: {outcome}"
    elif activity.kind == ActivityKind.STATUS_CHANGE:
        detail = f"{_label(Status, data.get('from', ''))} → {_label(Status, data.get('to', ''))}"
        if data.get("close_reason"):
            detail += f" ({_label(CloseReason, data['close_reason'])})"
    elif activity.kind == ActivityKind.NEXT_ACTION:
        detail = _label(ActionKind, data.get("kind", ""))
    elif activity.kind == ActivityKind.BLOCKER:
        detail = _label(Blocker, data.get("blocker", "")) or "cleared"
    else:
        detail = ""
    actor = activity.actor
    return {
        "kind": activity.kind,
        "label": _label(ActivityKind, activity.kind),
        "at": site_time(activity.at, tz),
        "iso": activity.at.isoformat(),
        "detail": detail,
        "actor": (actor.get_full_name() or actor.email) if actor else "",
        "text": activity.text,
    }


def site_time(value: datetime | None, tz: str) -> str:
    """A time as the site's clock shows it: "Tue 01 Dec 14:30 CST"."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


def _label(choices: type[models.TextChoices], value: str) -> str:
    return str(choices(value).label) if value else ""


def queue_row(lead: Lead, now: datetime) -> dict[str, Any]:
    """Everything a queue row prints, as plain strings: cheap to render fifty at a time."""
    site = lead.study_site.site
    title = lead.study_site.study.brief_title
    url = f"{leads_prefix()}{lead.code}/"  # a path of our own and a UUID: nothing to escape
    owner = lead.owner.user if lead.owner else None
    return {
        "code": str(lead.code),
        "url": url,
        "links": mark_safe(_row_links().replace("{url}", url)),  # noqa: S308  (escaped above)
        "name": lead.person.full_name,
        "study": title if len(title) <= 42 else f"{title[:41]}…",
        "site": site.name,
        "source": _label(Source, lead.source),
        "status": _label(Status, lead.status),
        "blocker": _label(Blocker, lead.blocker),
        "owner": (owner.get_full_name() or owner.email) if owner else "—",
        "moved": f"{span(now - lead.last_movement_at)} ago",
        "next_action": _label(ActionKind, lead.next_action) or "—",
        "due": site_time(lead.next_action_due_at, site.timezone),
        "reason": reason(lead, now),
        "past_sla": past_sla(lead, now),
        # Something intake accepted but a site lead should look at (e.g. an expired material).
        "flag": lead.flag,
    }
