"""Reads for the queue, search and lead page. Every function takes the member whose view it is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import QueryDict

from leads.models import (
    OPEN_STATUSES,
    ActionKind,
    Blocker,
    Lead,
    Person,
    SavedView,
    Source,
    Status,
)
from leads.services import normalize_phone
from trialsnest.tenancy.models import Membership

PAGE_SIZE = 50

# (key, label): the queue's tabs, in order.
TABS: list[tuple[str, str]] = [
    ("due", "Due now"),
    ("overdue", "Overdue"),
    ("new", "New"),
    ("records", "Waiting on records"),
    ("ready", "Ready to schedule"),
    ("scheduled", "Scheduled"),
    ("stale", "Stale"),
    ("open", "All open"),
]
TAB_KEYS = [key for key, _ in TABS]


def tab_q(tab: str, now: datetime) -> Q:
    held = Q(blocker=Blocker.STUDY_PAUSED)
    return {
        "due": Q(attention_at__lte=now) & ~held,
        "overdue": Q(sla_due_at__lt=now) & ~held,
        "new": Q(status=Status.NEW),
        "records": Q(status=Status.RECORDS_PENDING),
        "ready": Q(status=Status.RECORDS_READY),
        "scheduled": Q(status=Status.VISIT_SCHEDULED),
        "stale": Q(stale_at__lte=now) & ~held,
        "open": Q(),
    }[tab]


def visible_leads(membership: Membership) -> QuerySet[Lead]:
    """The leads this member may see: their organization's, within their restrictions."""
    leads = Lead.objects.filter(organization_id=membership.organization_id)
    if membership.is_org_admin:
        return leads
    return leads.filter(study_site__in=membership.visible_study_sites())


@dataclass
class QueueFilters:
    """Queue filters parsed from a query string; unknown values become clear errors."""

    site: str = ""
    study: str = ""
    owner: str = ""
    source: str = ""
    status: str = ""
    blocker: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    NAMES = ("site", "study", "owner", "source", "status", "blocker")

    @classmethod
    def parse(cls, data: QueryDict) -> QueueFilters:
        filters = cls()
        for name in cls.NAMES:
            setattr(filters, name, str(data.get(name, "")).strip())
        for name in ("site", "study"):
            value = getattr(filters, name)
            if value and not _is_uuid(value):
                filters.errors[name] = f"Unknown {name}."
        if filters.owner and filters.owner != "me" and not _is_uuid(filters.owner):
            filters.errors["owner"] = "Unknown owner."
        choices = {"source": Source.values, "status": OPEN_STATUSES, "blocker": Blocker.values}
        for name, allowed in choices.items():
            value = getattr(filters, name)
            if value and value not in allowed and not (name == "blocker" and value == "none"):
                filters.errors[name] = f"Unknown {name}."
        for name in filters.errors:
            setattr(filters, name, "")
        return filters

    def q(self, membership: Membership) -> Q:
        q = Q()
        if self.site:
            q &= Q(study_site__site__code=self.site)
        if self.study:
            q &= Q(study_site__study__code=self.study)
        if self.owner == "me":
            q &= Q(owner_id=membership.pk)
        elif self.owner:
            q &= Q(owner__code=self.owner)
        if self.source:
            q &= Q(source=self.source)
        if self.status:
            q &= Q(status=self.status)
        if self.blocker == "none":
            q &= Q(blocker="")
        elif self.blocker:
            q &= Q(blocker=self.blocker)
        return q

    def query_string(self) -> str:
        return "&".join(f"{n}={getattr(self, n)}" for n in self.NAMES if getattr(self, n))

    @property
    def active(self) -> bool:
        return any(getattr(self, n) for n in self.NAMES)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def queue_counts(membership: Membership, filters: QueueFilters, now: datetime) -> dict[str, int]:
    """Every tab's count in one aggregate query."""
    leads = visible_leads(membership).filter(status__in=OPEN_STATUSES).filter(filters.q(membership))
    aggregates = {key: Count("id", filter=tab_q(key, now)) for key in TAB_KEYS}
    return {key: int(value) for key, value in leads.aggregate(**aggregates).items()}


def parse_cursor(value: str) -> tuple[datetime, int] | None:
    """`after` is "<attention time>_<id>" of the last row of the previous page."""
    try:
        at, _, pk = value.rpartition("_")
        return datetime.fromisoformat(at), int(pk)
    except ValueError:
        return None


def cursor_of(lead: Lead) -> str:
    assert lead.attention_at is not None
    return f"{lead.attention_at.isoformat()}_{lead.pk}"


def queue_rows(
    membership: Membership,
    *,
    tab: str,
    filters: QueueFilters,
    now: datetime,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[Lead]:
    """One page of the tab, in order of attention, keyset-paged (no OFFSET)."""
    leads = (
        visible_leads(membership)
        .filter(status__in=OPEN_STATUSES)
        .filter(tab_q(tab, now))
        .filter(filters.q(membership))
    )
    if after is not None:
        at, pk = after
        leads = leads.filter(Q(attention_at__gt=at) | Q(attention_at=at, id__gt=pk))
    return list(
        leads.select_related(
            "person", "study_site__site", "study_site__study", "owner__user"
        ).order_by("attention_at", "id")[:limit]
    )


def search(membership: Membership, text: str, limit: int = 25) -> list[Lead]:
    """Find a person's leads by phone (any format), e-mail or name, for callbacks."""
    text = text.strip()
    if len(text) < 2:
        return []
    people = Person.objects.filter(organization_id=membership.organization_id)
    if "@" in text:
        people = people.filter(email=text.lower())
    elif sum(c.isdigit() for c in text) >= 7:
        try:
            people = people.filter(phone=normalize_phone(text))
        except ValidationError:
            return []
    else:
        words = text.split()
        if len(words) == 1:
            people = people.filter(
                Q(last_name__istartswith=words[0]) | Q(first_name__istartswith=words[0])
            )
        else:
            people = people.filter(
                first_name__istartswith=words[0], last_name__istartswith=words[-1]
            )
    return list(
        visible_leads(membership)
        .filter(person__in=people.values("id")[:200])
        .select_related("person", "study_site__site", "study_site__study", "owner__user")
        .order_by("-last_movement_at")[:limit]
    )


def saved_views(membership: Membership) -> QuerySet[SavedView]:
    return SavedView.objects.filter(organization_id=membership.organization_id).filter(
        Q(owner=membership) | Q(shared=True)
    )


# Why a row is in the queue ------------------------------------------------------------------


def _span(delta: timedelta) -> str:
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
        return f"no movement for {_span(now - lead.last_movement_at)}"
    due = lead.next_action_due_at
    label = ActionKind(lead.next_action).label.lower() if lead.next_action else "next action"
    if due is None:
        return label
    if due <= now - timedelta(hours=1):
        return f"{label} overdue {_span(now - due)}"
    if due <= now:
        return f"{label} due now"
    return f"{label} due in {_span(due - now)}"


def past_sla(lead: Lead, now: datetime) -> bool:
    return lead.is_open and lead.sla_due_at is not None and lead.sla_due_at < now


def lead_page_data(lead: Lead, activity_limit: int = 100) -> dict[str, Any]:
    activities = list(
        lead.activities.select_related("actor").order_by("-at", "-id")[:activity_limit]
    )
    others = list(
        Lead.objects.filter(person_id=lead.person_id)
        .exclude(pk=lead.pk)
        .select_related("study_site__study", "study_site__site")
        .order_by("-received_at")[:20]
    )
    return {"activities": activities, "other_leads": others}
