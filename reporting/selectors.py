"""Reads for the dashboards and sponsor reports: from the rollups (reporting.models), so each
costs a constant number of queries and grows with days x groups, never with leads."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncWeek

from leads.models import OPEN_STATUSES, Lead
from reporting.models import FIRST_CONTACT_BUCKETS, DailyCohort
from trialsnest.tenancy.models import Membership

# The funnel, in order: (rollup column, label).
STAGES: tuple[tuple[str, str], ...] = (
    ("received", "Received"),
    ("contacted", "Contacted"),
    ("prescreened", "Prescreened"),
    ("records_ready", "Records ready"),
    ("scheduled", "Scheduled"),
    ("handed_off", "Handed off"),
)
COUNTS = (*(name for name, _ in STAGES), "closed", "open", "sla_missed", "stale")
# What the summary of the open leads counts: a column of the lead_sla index, never null. That
# index holds every column the summary reads: an index-only scan (leads/models.py).
_IN_INDEX = "study_site"


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    study_site_ids: list[int] | None = None  # None: every StudySite of the organization
    source: str = ""


@dataclass
class Figures:
    """The counts of a set of cohorts, and their first-contact hours histogram."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    first_contact_hours: list[int] = field(
        default_factory=lambda: [0] * (len(FIRST_CONTACT_BUCKETS) + 1)
    )

    def add(self, row: dict[str, Any]) -> None:
        for name in COUNTS:
            self.counts[name] += row[name] or 0
        for i, n in enumerate(row["first_contact_hours"] or ()):
            self.first_contact_hours[i] += n

    def stage_counts(self) -> list[int]:
        return [self.counts[name] for name, _ in STAGES]

    def rate(self, name: str, of: str = "received") -> float | None:
        return self.counts[name] / self.counts[of] if self.counts[of] else None

    def hours_percentile(self, share: float) -> str:
        """The first-contact bucket holding this share of contacted leads ("under 4 h")."""
        total = sum(self.first_contact_hours)
        if not total:
            return "—"
        seen = 0
        for i, n in enumerate(self.first_contact_hours):
            seen += n
            if seen >= share * total:
                if i < len(FIRST_CONTACT_BUCKETS):
                    return f"under {FIRST_CONTACT_BUCKETS[i]} h"
                return f"over {FIRST_CONTACT_BUCKETS[-1]} h"
        return "—"


def cohorts(*, organization_id: int, filters: Filters) -> QuerySet[DailyCohort]:
    rows = DailyCohort.objects.filter(
        organization_id=organization_id, day__gte=filters.start, day__lte=filters.end
    )
    if filters.study_site_ids is not None:
        rows = rows.filter(study_site_id__in=filters.study_site_ids)
    if filters.source:
        rows = rows.filter(source=filters.source)
    return rows


def cohort_rows(
    *, organization_id: int, filters: Filters, by_week: bool = False
) -> list[dict[str, Any]]:
    """The cohorts the filters select, summed in SQL per StudySite and source (or per week):
    one query, whose rows number groups, not days."""
    rows = cohorts(organization_id=organization_id, filters=filters)
    keys = rows.values(week=TruncWeek("day")) if by_week else rows.values("study_site_id", "source")
    buckets = {
        f"b{i}": Sum(RawSQL("first_contact_hours[%s]", (i + 1,)))
        for i in range(len(FIRST_CONTACT_BUCKETS) + 1)
    }
    summed = keys.annotate(**{n: Sum(n) for n in COUNTS}, **buckets).order_by()
    result = []
    for row in summed:
        data = dict(row)
        data["first_contact_hours"] = [data.pop(b) or 0 for b in buckets]
        result.append(data)
    return result


def group_figures(rows: list[dict[str, Any]], key: str) -> dict[Any, Figures]:
    """Figures per `key` ("study_site_id", "source", "week" or "all")."""
    grouped: dict[Any, Figures] = defaultdict(Figures)
    for row in rows:
        if key == "week":
            group: Any = row["week"]
        elif key == "all":
            group = "all"
        else:
            group = row[key]
        grouped[group].add(row)
    return dict(grouped)


@dataclass(frozen=True)
class Trend:
    """One headline measure, the last full week against the four before."""

    label: str
    this_week: float | None
    before: float | None  # mean of the previous four weeks
    direction: str  # "up", "down", "flat"
    beyond_noise: bool  # the change exceeds twice the week-to-week spread of the four
    better_when_up: bool


# (label, numerator, denominator or "" for a plain count, better when up)
HEADLINES: tuple[tuple[str, str, str, bool], ...] = (
    ("Leads received", "received", "", True),
    ("Contacted", "contacted", "received", True),
    ("First contact SLA missed", "sla_missed", "received", False),
    ("Handed off", "handed_off", "received", True),
    ("Stale", "stale", "received", False),
)


def weekly_trends(*, organization_id: int, filters: Filters, today: date) -> list[Trend]:
    # The last full week (a week in progress would always look worse) against the four before.
    this_monday = today - timedelta(days=today.weekday())
    weeks = [this_monday - timedelta(weeks=n) for n in range(1, 6)]
    window = Filters(
        weeks[-1], this_monday - timedelta(days=1), filters.study_site_ids, filters.source
    )
    rows = cohort_rows(organization_id=organization_id, filters=window, by_week=True)
    by_week = group_figures(rows, "week")
    trends = []
    for label, num, den, better_up in HEADLINES:
        values: list[float | None] = []
        for week in weeks:
            fig = by_week.get(week, Figures())
            values.append(fig.rate(num, den) if den else float(fig.counts[num]))
        now_value, history = values[0], [v for v in values[1:] if v is not None]
        before = statistics.fmean(history) if history else None
        direction, beyond = "flat", False
        if now_value is not None and before is not None:
            change = now_value - before
            direction = "up" if change > 0 else "down" if change < 0 else "flat"
            spread = statistics.pstdev(history) if len(history) > 1 else 0.0
            beyond = abs(change) > 2 * spread and change != 0 and len(history) >= 2
        trends.append(Trend(label, now_value, before, direction, beyond, better_up))
    return trends


# Who owns the next step while a lead waits at a stage (DESIGN.md's statuses).
NEXT_STEP_OWNER: dict[str, str] = {
    "new": "coordinator",
    "contacting": "coordinator",
    "prescreening": "coordinator",
    "needs_review": "study team",
    "records_pending": "provider",
    "records_ready": "coordinator",
    "visit_scheduled": "patient",
}


def open_leads_summary(
    *, organization_id: int, study_site_ids: list[int] | None, now: Any
) -> dict[str, Any]:
    """The open leads three ways, from one grouped read of them (by owner and status): open
    work per owner ("owners"), the lanes ("lanes": new, active, stalled past stale_at,
    scheduled) and per open stage how many wait and since when the longest has ("waits").
    One pass over the leads, then the owners' names: two queries."""
    leads = Lead.objects.filter(organization_id=organization_id, status__in=OPEN_STATUSES)
    if study_site_ids is not None:
        leads = leads.filter(study_site_id__in=study_site_ids)
    groups = leads.values("owner_id", "status").annotate(
        open=Count(_IN_INDEX),
        due=Count(_IN_INDEX, filter=Q(next_action_due_at__lte=now)),
        sla_overdue=Count(_IN_INDEX, filter=Q(first_contact_at__isnull=True, sla_due_at__lt=now)),
        stale=Count(_IN_INDEX, filter=Q(stale_at__lte=now)),
        since=Min("status_changed_at"),
    )
    owners: dict[int | None, dict[str, Any]] = {}
    stages: dict[str, dict[str, Any]] = {}
    for g in groups:
        owner = owners.setdefault(
            g["owner_id"], {"owner_id": g["owner_id"], "open": 0, "due": 0, "sla_overdue": 0,
                            "stale": 0}
        )  # fmt: skip
        for name in ("open", "due", "sla_overdue", "stale"):
            owner[name] += g[name]
        stage = stages.setdefault(g["status"], {"waiting": 0, "stale": 0, "since": None})
        stage["waiting"] += g["open"]
        stage["stale"] += g["stale"]
        if stage["since"] is None or (g["since"] is not None and g["since"] < stage["since"]):
            stage["since"] = g["since"]
    people: dict[int, dict[str, Any]] = {
        m["pk"]: dict(m)
        for m in Membership.objects.filter(pk__in=[pk for pk in owners if pk is not None]).values(
            "pk", "user__email", "user__first_name"
        )
    }
    for pk, owner in owners.items():
        person = people.get(pk, {}) if pk is not None else {}
        owner["owner__user__email"] = person.get("user__email")
        owner["owner__user__first_name"] = person.get("user__first_name")

    def fresh(*statuses: str) -> int:  # open and not past stale_at
        return sum(stages[s]["waiting"] - stages[s]["stale"] for s in statuses if s in stages)

    return {
        "owners": sorted(owners.values(), key=lambda o: -o["open"]),
        "lanes": {
            "new": fresh("new"),
            "active": fresh(*(s for s in OPEN_STATUSES if s not in ("new", "visit_scheduled"))),
            "stalled": sum(stage["stale"] for stage in stages.values()),
            "scheduled": fresh("visit_scheduled"),
        },
        "waits": [
            {
                "status": s,
                "owner": NEXT_STEP_OWNER[s],
                "waiting": stages.get(s, {}).get("waiting", 0),
                "since": stages.get(s, {}).get("since"),
            }
            for s in OPEN_STATUSES
        ],
    }
