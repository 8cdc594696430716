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
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from leads.actions import ROW_ACTIONS
from leads.models import (
    SLA_FIELD,
    ActionKind,
    Activity,
    ActivityKind,
    Blocker,
    BulkChange,
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
    """The queue row's action links, from the registry, with `{url}` where the row's URL goes
    and `{back}` where the queue's own address goes: built once per process (fifty rows of
    template loops cost more than the page's SQL). `hx-get` loads the form into the row's
    panel without touching the address bar (a boosted link would push its URL); `href` is
    the form's own page without JavaScript."""
    return "\n".join(
        format_html(
            '<a href="{{url}}{}/?in=queue{{back}}" hx-get="{{url}}{}/?in=queue{{back}}" '
            'data-key="{}" title="{} ({})"><span class="short">{}</span>'
            '<span class="long">{}</span></a>',
            action.key, action.key,
            action.hotkey, action.title, action.hotkey, action.link, action.title,
        )
        for action in ROW_ACTIONS
    )  # fmt: skip


def back_query(back: str) -> str:
    """`&next=…` for a row link, escaped for an HTML attribute ("" when there is no queue
    address to return to)."""
    return escape(f"&{urlencode({'next': back})}") if back else ""


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


def reason(lead: Lead, now: datetime, tab: str = "open") -> str:
    """Why the lead is in the queue's `tab`, in words, as of `now`: Due now names the next
    action, Stale the lack of movement, Overdue the SLA target; the other tabs say what the
    lead waits for (a snooze, no movement, or its next action)."""
    if not lead.is_open:
        return Status(lead.status).label
    if lead.blocker == Blocker.STUDY_PAUSED:
        return "study paused: on hold until recruiting resumes"
    if tab == "due":
        return _next_action_reason(lead, now)
    if tab == "stale":
        return _stale_reason(lead, now)
    if tab == "overdue" and lead.sla_due_at is not None:
        # "sla_first_response_hours" -> "first response": the target's name is its field's.
        field = SLA_FIELD.get(lead.status, "sla_hours")
        target = field.removeprefix("sla_").removesuffix("hours").replace("_", " ").strip()
        return f"{target or 'SLA'} target missed {span(now - lead.sla_due_at)} ago"
    if lead.snoozed_until and lead.snoozed_until > now:
        return f"snoozed until {site_time(lead.snoozed_until, lead.study_site.site.timezone)}"
    if lead.stale_at and lead.stale_at <= now:
        return _stale_reason(lead, now)
    return _next_action_reason(lead, now)


def _stale_reason(lead: Lead, now: datetime) -> str:
    return f"no movement for {span(now - lead.last_movement_at)}"


def _next_action_reason(lead: Lead, now: datetime) -> str:
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
    """Past its SLA target, as the Overdue tab counts it (a held lead is not)."""
    held = lead.blocker == Blocker.STUDY_PAUSED
    return lead.is_open and not held and lead.sla_due_at is not None and lead.sla_due_at < now


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
    elif activity.kind == ActivityKind.RECORDS:
        detail = str(data.get("detail", ""))
    elif activity.kind == ActivityKind.MESSAGE:
        direction = _label(Direction, activity.direction).lower()
        what = data.get("status") or data.get("intent", "").replace("_", " ")
        detail = f"{_label(Channel, activity.channel)}, {direction}: {what}"
        if data.get("reason"):
            detail += f" ({data['reason']})"
    elif activity.kind == ActivityKind.SNOOZE and data.get("until"):
        detail = f"until {site_time(datetime.fromisoformat(data['until']), tz)}"
    else:
        detail = ""
    actor = activity.actor
    text, more = fold(activity.text)
    return {
        "kind": activity.kind,
        "label": _label(ActivityKind, activity.kind),
        "at": site_time(activity.at, tz),
        "iso": activity.at.isoformat(),
        "detail": detail,
        "actor": (actor.get_full_name() or actor.email) if actor else "",
        "text": text,
        "more": more,
    }


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut on a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut.rstrip(' ,;:-')}…"


NOTE_PREVIEW_CHARS = 280
NOTE_PREVIEW_LINES = 4


def fold(text: str) -> tuple[str, str]:
    """A long note as (what shows, what "show more" reveals), split on a word boundary."""
    lines = text.splitlines()
    if len(text) <= NOTE_PREVIEW_CHARS + 40 and len(lines) <= NOTE_PREVIEW_LINES + 1:
        return text, ""
    head = "\n".join(lines[:NOTE_PREVIEW_LINES])
    if len(head) > NOTE_PREVIEW_CHARS:
        head = head[:NOTE_PREVIEW_CHARS]
        if " " in head:
            head = head.rsplit(" ", 1)[0]
    return head, text[len(head) :].lstrip(" ")


def site_time(value: datetime | None, tz: str) -> str:
    """A time as the site's clock shows it: "Tue 01 Dec 14:30 CST"."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


def _label(choices: type[models.TextChoices], value: str) -> str:
    return str(choices(value).label) if value else ""


def queue_row(
    lead: Lead, now: datetime, tab: str = "open", back: str = "", why: str | None = None
) -> dict[str, Any]:
    """Everything a queue row of `tab` prints, as plain strings: cheap to render fifty at a
    time. `back` is the queue's own address (tab, filters, cursor), which the row's action
    links return to after a save without JavaScript; `why`, a reason another app gave for the
    row (leads/signals.py queue_rows_shown)."""
    site = lead.study_site.site
    title = lead.study_site.study.brief_title
    url = f"{leads_prefix()}{lead.code}/"  # a path of our own and a UUID: nothing to escape
    owner = lead.owner.user if lead.owner else None
    return {
        "code": str(lead.code),
        "url": url,
        "links": mark_safe(  # noqa: S308  (a path and a UUID, and `back` escaped here)
            _row_links().replace("{url}", url).replace("{back}", back_query(back))
        ),
        "name": lead.person.full_name,
        "study": shorten(title, 34),
        "study_title": title,
        "site": site.name,
        "source": _label(Source, lead.source),
        "status": _label(Status, lead.status),
        "blocker": _label(Blocker, lead.blocker),
        "owner": (owner.get_full_name() or owner.email) if owner else "—",
        "moved": f"{span(now - lead.last_movement_at)} ago",
        "next_action": _label(ActionKind, lead.next_action) or "—",
        "due": site_time(lead.next_action_due_at, site.timezone),
        "reason": why or reason(lead, now, tab),
        "past_sla": past_sla(lead, now),
        # In Overdue the reason already names the missed target.
        "sla_badge": past_sla(lead, now) and tab != "overdue",
        # Something intake accepted but a site lead should look at (e.g. an expired material).
        "flag": lead.flag,
    }


def undo_message(
    change: BulkChange, restored: int, changed_since: int, owner_left: int, no_access: int = 0
) -> str:
    """What an undo of a bulk change did, and what it left as it is and why."""
    if not change.changes_owners:
        what = "closed" if change.kind == BulkChange.Kind.CLOSE else "given a next action"
        parts = [f"Put {restored:,} leads back as they were before they were {what}."]
        if changed_since:
            parts.append(f"{changed_since:,} were changed since and keep their current state.")
        return " ".join(parts)
    parts = [f"Gave {restored:,} leads back to their previous owners."]
    if changed_since:
        parts.append(
            f"{changed_since:,} were changed since the reassignment and keep their current owner."
        )
    if owner_left:
        parts.append(
            f"{owner_left:,} keep their current owner: the previous one is no longer active."
        )
    if no_access:
        parts.append(
            f"{no_access:,} keep their current owner: the previous one no longer has access to "
            "their study at that site."
        )
    return " ".join(parts)
