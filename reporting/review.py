"""Reads for the weekly review: what moved since the last one, where leads are blocked, SLA
misses by each dimension, the stale leads to review, and the headline measures action items
promise to move. Each is one grouped query over the open leads (or the week's), never a loop."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q, QuerySet

from leads.models import OPEN_STATUSES, ActionKind, Blocker, CloseReason, Lead, Source, Status
from reporting.models import Review
from reporting.selectors import HEADLINES, Filters, weekly_trends

# The dimensions SLA misses are counted by: (label, lead field, its display names).
DIMENSIONS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("Source", "source", dict(Source.choices)),
    ("Study at site", "study_site__study__brief_title", {}),
    ("Site", "study_site__site__name", {}),
    ("Owner", "owner__user__email", {}),
    ("Blocker", "blocker", {"": "No blocker", **dict(Blocker.choices)}),
    ("Next action", "next_action", {"": "None set", **dict(ActionKind.choices)}),
)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _leads(organization_id: int, study_site_ids: list[int] | None) -> QuerySet[Lead]:
    leads = Lead.objects.filter(organization_id=organization_id)
    return leads if study_site_ids is None else leads.filter(study_site_id__in=study_site_ids)


def movement(
    *, organization_id: int, study_site_ids: list[int] | None, since: datetime, now: datetime
) -> dict[str, Any]:
    """Since `since`: leads that moved forward, newly stalled (past their stale time, not yet
    swept), newly marked stale by the sweep, and closed by reason. Three queries: the moves in
    one read by last_movement_at (a move sets it), grouped by close reason; the stalled and the
    marked ones as index-only scans of lead_sla (leads/models.py), which holds the open leads'
    stale times."""
    leads = _leads(organization_id, study_site_ids)
    forward = Q(status_changed_at__gte=since) & ~Q(status__in=[Status.NEW, Status.CLOSED])
    closed_since = Q(status=Status.CLOSED, status_changed_at__gte=since)
    moves = (
        leads.filter(last_movement_at__gte=since)
        .values("close_reason")
        .annotate(forward=Count("id", filter=forward), closed=Count("id", filter=closed_since))
        .order_by()
    )
    reasons = dict(CloseReason.choices)
    by_reason = [(row["close_reason"], row["forward"], row["closed"]) for row in moves]
    counts: dict[str, Any] = {"moved_forward": sum(forward for _, forward, _ in by_reason)}
    counts["newly_stalled"] = leads.filter(
        status__in=OPEN_STATUSES,
        stale_marked_at__isnull=True,
        stale_at__gte=since,
        stale_at__lte=now,
    ).count()
    # Marked leads are open ones (a close clears the mark): lead_sla holds them, index-only.
    counts["newly_stale"] = leads.filter(
        status__in=OPEN_STATUSES, stale_marked_at__gte=since
    ).count()
    counts["closed"] = sorted(
        ((reasons.get(reason, "Other"), n) for reason, _, n in by_reason if n),
        key=lambda pair: -pair[1],
    )
    return counts


def last_review_at(*, organization_id: int, now: datetime) -> datetime:
    """When the organization last reviewed (its latest review's first action), else a week ago."""
    last = Review.objects.filter(organization_id=organization_id).values("created_at").first()
    return last["created_at"] if last else now - timedelta(days=7)


def worst_blockers(
    *, organization_id: int, study_site_ids: list[int] | None, limit: int = 5
) -> list[dict[str, Any]]:
    names = dict(Blocker.choices)
    rows = (
        _leads(organization_id, study_site_ids)
        .filter(status__in=OPEN_STATUSES)
        .exclude(blocker="")
        .values("blocker")
        .annotate(n=Count("id"), since=Min("status_changed_at"))
        .order_by("-n")[:limit]
    )
    return [{**r, "blocker": names.get(r["blocker"], r["blocker"])} for r in rows]


def sla_misses_by(
    *, organization_id: int, study_site_ids: list[int] | None, now: datetime, limit: int = 5
) -> list[tuple[str, list[tuple[str, int]]]]:
    """Open leads still waiting for a first contact past its SLA, by each dimension."""
    missed = _leads(organization_id, study_site_ids).filter(
        status__in=OPEN_STATUSES, first_contact_at__isnull=True, sla_due_at__lt=now
    )
    result = []
    for label, field, names in DIMENSIONS:
        rows = missed.values(field).annotate(n=Count("id")).order_by("-n")[:limit]
        result.append((label, [(names.get(r[field], r[field] or "—"), r["n"]) for r in rows]))
    return result


def stale_review(
    *, organization_id: int, study_site_ids: list[int] | None, limit: int = 25
) -> QuerySet[Lead]:
    """Open leads the sweep marked stale, waiting longest first: the site lead's review list."""
    return (
        _leads(organization_id, study_site_ids)
        .filter(status__in=OPEN_STATUSES, stale_marked_at__isnull=False)
        .select_related("person", "study_site__site", "owner__user")
        .order_by("stale_marked_at", "id")[:limit]
    )


def metric_values(
    *, organization_id: int, study_site_ids: list[int] | None, today: date
) -> dict[str, float | None]:
    """Each headline measure's value for the last full week (rates as shares of received)."""
    trends = weekly_trends(
        organization_id=organization_id, filters=Filters(today, today, study_site_ids), today=today
    )
    return {num: t.this_week for (_, num, _, _), t in zip(HEADLINES, trends, strict=True)}
