"""The organization's audit log as its site leads read it: filtered, newest first, a page at a
time by id (no count over millions of rows), and as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from trialsnest.accounts.models import User
from trialsnest.audit.models import AuditEvent

PAGE = 100
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class Filters:
    actor: str = ""  # part of an e-mail address
    action: str = ""  # an action or its prefix ("lead." for every lead event)
    record: str = ""  # an object's public id (a lead's or a person's code)
    start: date | None = None
    end: date | None = None


def events(organization_id: int, filters: Filters) -> QuerySet[AuditEvent]:
    rows = AuditEvent.objects.filter(organization_id=organization_id)
    if filters.actor:
        users = User.objects.filter(email__icontains=filters.actor.strip()).values("pk")
        rows = rows.filter(actor_id__in=users)
    if filters.action:
        rows = rows.filter(action__startswith=filters.action.strip())
    if filters.record:
        rows = rows.filter(object_id=filters.record.strip())
    if filters.start:
        rows = rows.filter(at__gte=_midnight(filters.start))
    if filters.end:
        rows = rows.filter(at__lt=_midnight(filters.end + timedelta(days=1)))
    return rows.order_by("-id")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def page(organization_id: int, filters: Filters, before: int | None) -> list[AuditEvent]:
    rows = events(organization_id, filters)
    if before:
        rows = rows.filter(id__lt=before)
    return list(rows.select_related("actor")[: PAGE + 1])


def change_names(event: AuditEvent) -> str:
    """What changed, for the page: field names with old → new, PHI fields named only."""
    parts: list[str] = []
    for name, change in sorted((event.changes or {}).items()):
        if not isinstance(change, dict) or change.get("phi"):
            parts.append(name)
        else:
            parts.append(f"{name}: {_short(change.get('old'))} → {_short(change.get('new'))}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    text = "—" if value in (None, "", []) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def csv_rows(organization_id: int, filters: Filters) -> Iterator[list[str]]:
    yield ["at (UTC)", "who", "action", "record type", "record", "changes", "reason", "address"]
    rows = events(organization_id, filters).select_related("actor")[:EXPORT_LIMIT]
    for event in rows.iterator(chunk_size=2000):
        yield [
            event.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor.email if event.actor else "system",
            event.action,
            event.object_type,
            event.object_id,
            change_names(event),
            event.reason,
            event.ip or "",
        ]
