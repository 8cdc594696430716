"""Reads for the queue, search and lead page. Every function takes the member whose view it is.

What a row or a timeline entry says in words is leads/presenters.py's job.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVectorExact
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.http import QueryDict

from leads.models import (
    OPEN_STATUSES,
    Blocker,
    BulkChange,
    Lead,
    Person,
    PersonMerge,
    SavedView,
    Source,
    Status,
)
from trialsnest.lib.phones import normalize_phone
from trialsnest.lib.text import name_words_sql, search_key
from trialsnest.studies.models import RecruitmentStatus
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import (
    VISIBLE_IDS,
    study_site_restriction,
    visible_study_site_ids,
    visible_study_sites,
)

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
    """What each tab holds, as its name says. Due now: the next action is due by now. Stale:
    no movement for the StudySite's stale period. Both leave out held leads (study paused) and
    snoozed ones: attention_at never comes before a snooze ends (leads/services/policies.py)."""
    held = Q(blocker=Blocker.STUDY_PAUSED)
    awake = Q(attention_at__lte=now)
    return {
        "due": awake & Q(next_action_due_at__lte=now) & ~held,
        "overdue": Q(sla_due_at__lt=now) & ~held,
        "new": Q(status=Status.NEW),
        "records": Q(status=Status.RECORDS_PENDING),
        "ready": Q(status=Status.RECORDS_READY),
        "scheduled": Q(status=Status.VISIT_SCHEDULED),
        "stale": awake & Q(stale_at__lte=now) & ~held,
        "open": Q(),
    }[tab]


def visible_leads(membership: Membership, *, few: bool = False) -> QuerySet[Lead]:
    """The leads this member may see: their organization's, within their restrictions.

    `few`: for a lead by its code or a person's leads, the restriction goes in as a condition
    on the lead's StudySite and costs no query of its own (a lead with its StudySite, site and
    study joined took 3-6 ms to plan with the StudySites as a semi-join, 1 ms this way); long
    lists take the literal ids, which the indexes prefer."""
    leads = Lead.objects.filter(organization_id=membership.organization_id)
    if membership.role == Role.ORG_ADMIN:
        return leads
    if few and not hasattr(membership, VISIBLE_IDS):
        return leads.filter(study_site_restriction(membership, through="study_site__"))
    ids = visible_study_site_ids(membership)
    return leads if ids is None else leads.filter(study_site_id__in=ids)


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
            if value and not is_uuid(value):
                filters.errors[name] = f"Unknown {name}."
        if filters.owner and filters.owner != "me" and not is_uuid(filters.owner):
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


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def queue_counts(membership: Membership, filters: QueueFilters, now: datetime) -> dict[str, int]:
    """Every tab's count in one aggregate query."""
    leads = visible_leads(membership).filter(status__in=OPEN_STATUSES).filter(filters.q(membership))
    # Counting a column of the lead_counts index (never null) keeps this an index-only scan.
    aggregates = {key: Count("study_site", filter=tab_q(key, now)) for key in TAB_KEYS}
    return {key: int(value) for key, value in leads.aggregate(**aggregates).items()}


# What a queue or search row shows: the lead and only the columns of its relations it needs
# (a study's eligibility text and locations would otherwise ride along with every row).
ROW_FIELDS = (
    *[f.name for f in Lead._meta.concrete_fields],
    "person__first_name",
    "person__last_name",
    "person__phone",
    "person__email",
    "study_site__code",
    "study_site__site__name",
    "study_site__site__timezone",
    "study_site__study__brief_title",
    "owner__code",
    "owner__user__first_name",
    "owner__user__last_name",
    "owner__user__email",
)


def row_fields(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    return leads.select_related(
        "person", "study_site__site", "study_site__study", "owner__user"
    ).only(*ROW_FIELDS)


def parse_cursor(value: str) -> tuple[datetime, int] | None:
    """`after` is "<attention time>_<id>" of the last row of the previous page."""
    try:
        at, _, pk = value.rpartition("_")
        moment = datetime.fromisoformat(at)
        return (moment, int(pk)) if moment.tzinfo is not None else None
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
    return list(row_fields(leads).order_by("attention_at", "id")[:limit])


def search(membership: Membership, text: str, limit: int = 25) -> list[Lead]:
    """Find a person's leads by phone (any format), e-mail or name, for callbacks.

    A merge must not make anyone unfindable: a phone, e-mail or name that only a merged-away
    record had (or that a merge replaced on the kept one) finds the kept person's leads.
    """
    text = text.strip()
    if len(text) < 2:
        return []
    try:
        matches = _search_q(text, F)
        replaced = _search_q(text, lambda name: KT(f"changed__{name}__old"))
    except ValidationError:
        return []
    # A merged-away record stands for the person it was merged into (always a live one).
    people = (
        Person.objects.filter(matches, organization_id=membership.organization_id)
        .annotate(live=Coalesce("merged_into_id", "id"))
        .values_list("live")[:200]
    )
    kept = PersonMerge.objects.filter(
        replaced, organization_id=membership.organization_id, undone_at__isnull=True
    ).values_list("kept_id")[:200]
    # One IN over a UNION, so PostgreSQL still joins on the lead's person index.
    found = people.union(kept)
    leads = visible_leads(membership).filter(person__in=found)
    return list(row_fields(leads).order_by("-last_movement_at")[:limit])


# A name search reads at most this many words.
NAME_WORDS = 4


def _search_q(text: str, field: Callable[[str], Any]) -> Q:
    """What a search text matches, on the person fields whose expressions `field` gives.

    Names match word by word, each typed word the start of some word of the name, in any
    order, case and with or without accents: "mart" finds Linda Martinez, "garc" finds María
    López García; "lin mar", "martinez, lin" and "maria jose gonzalez p" find by several.
    Index-backed: the folded words of the name have a GIN index (leads/models.py Person), which
    answers the prefix tsquery 'garc':* without reading the table.
    """
    if "@" in text:
        return Q(Exact(field("email"), text.lower()))
    if sum(c.isdigit() for c in text) >= 7:
        return Q(Exact(field("phone"), normalize_phone(text)))
    # Words of letters and digits only, so each is a safe tsquery lexeme as it is.
    words = re.findall(r"[^\W_]+", search_key(text))[:NAME_WORDS]
    if sum(len(word) for word in words) < 2:  # only punctuation, or one letter: no one
        return Q(pk__in=[])
    prefixes = " & ".join(f"'{word}':*" for word in words)
    return Q(
        SearchVectorExact(
            name_words_sql(field("first_name"), field("last_name")),
            SearchQuery(prefixes, config="simple", search_type="raw"),
        )
    )


def saved_views(membership: Membership) -> QuerySet[SavedView]:
    return SavedView.objects.filter(organization_id=membership.organization_id).filter(
        Q(owner=membership) | Q(shared=True)
    )


def lead_page_data(lead: Lead, membership: Membership, activity_limit: int = 100) -> dict[str, Any]:
    """The lead page's lists: the latest timeline entries, and the person's other leads that
    this member may see."""
    activities = list(
        lead.activities.select_related("actor").order_by("-at", "-id")[:activity_limit]
    )
    others = list(
        visible_leads(membership, few=True)
        .filter(person_id=lead.person_id)
        .exclude(pk=lead.pk)
        .select_related("study_site__study", "study_site__site")
        .order_by("-received_at")[:20]
    )
    return {"activities": activities, "other_leads": others}


# The Team page ------------------------------------------------------------------------------


def recent_bulk_changes(membership: Membership, limit: int = 20) -> list[BulkChange]:
    """The organization's latest bulk changes of owners, newest first (each undoable for a
    while: see BulkChange.UNDO_PERIOD)."""
    return list(
        BulkChange.objects.filter(organization_id=membership.organization_id)
        .select_related("from_owner__user", "to_owner__user", "actor", "undone_by")
        .order_by("-created_at", "-id")[:limit]
    )


# Leads a site lead should look at: received through an expired recruitment material (intake
# accepts them with a flag), or held because their study is paused.
FLAGGED_LISTS: list[tuple[str, str]] = [
    ("expired", "From an expired recruitment material"),
    ("paused", "Held: study paused or closed"),
]


def flagged_q(membership: Membership, name: str) -> Q:
    if name == "expired":
        # A flag is only ever set at intake; the partial index on flagged leads serves this.
        return ~Q(flag="") & Q(received_at__date__gt=F("material__expires_on"))
    return Q(
        status__in=OPEN_STATUSES,
        blocker=Blocker.STUDY_PAUSED,
        study_site_id__in=_held_study_site_ids(membership),
    )


def _held_study_site_ids(membership: Membership) -> list[int]:
    """The visible StudySites that are not recruiting, as a literal list (once per membership
    object) so that the per-StudySite indexes on open leads serve the held list."""
    ids: list[int] | None = getattr(membership, "_held_study_site_ids", None)
    if ids is None:
        held = visible_study_sites(membership).exclude(
            recruitment_status=RecruitmentStatus.RECRUITING
        )
        ids = sorted(held.values_list("id", flat=True))
        membership._held_study_site_ids = ids  # type: ignore[attr-defined]
    return ids


def flagged_counts(membership: Membership) -> dict[str, int]:
    """Each list's number of leads, in one query."""
    lists = [flagged_q(membership, name) for name, _ in FLAGGED_LISTS]
    either = lists[0] | lists[1]
    counts = {
        name: Count("id", filter=q) for (name, _), q in zip(FLAGGED_LISTS, lists, strict=True)
    }
    return {
        name: int(n)
        for name, n in visible_leads(membership).filter(either).aggregate(**counts).items()
    }


def flagged_leads(
    membership: Membership,
    name: str,
    *,
    study_site_id: int | None = None,
    material_id: int | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[Lead]:
    """One page of a flagged list, newest first, keyset-paged on (received_at, id)."""
    leads = visible_leads(membership).filter(flagged_q(membership, name))
    if study_site_id is not None:
        leads = leads.filter(study_site_id=study_site_id)
    if material_id is not None:
        leads = leads.filter(material_id=material_id)
    if after is not None:
        at, pk = after
        leads = leads.filter(Q(received_at__lt=at) | Q(received_at=at, id__lt=pk))
    rows = (
        row_fields(leads)
        .select_related("material")
        .only(*ROW_FIELDS, "material__code", "material__material_code", "material__expires_on")
        .order_by("-received_at", "-id")
    )
    return list(rows[:limit])
