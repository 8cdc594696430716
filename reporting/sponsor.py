"""The sponsor's report of one study: its shared StudySites' figures as one system of cells,
suppressed together (reporting.suppression), and the same cells for the page and the CSV."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum as DbSum

from reporting.models import DailyCohort
from reporting.selectors import STAGES
from reporting.suppression import HIDDEN, Sum, shown, suppress
from trialsnest.studies.models import StudySite

TREND_WEEKS = 12
TREND_STAGES = ("received", "handed_off")


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, list[str]]]  # (row label, shown cells)


@dataclass(frozen=True)
class SponsorReport:
    sites: Table
    trend: Table
    progress: Table

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.sites, self.progress, self.trend)


def sponsor_report(*, study_sites: list[StudySite], today: date) -> SponsorReport:
    """Three tables over `study_sites` (one study's StudySites shared with the sponsor); two
    queries whatever the number of leads."""
    ids = [ss.pk for ss in study_sites]
    names = [stage for stage, _ in STAGES]
    per_site: dict[int, dict[str, Any]] = {
        r["study_site_id"]: dict(r)
        for r in DailyCohort.objects.filter(study_site_id__in=ids)
        .values("study_site_id")
        .annotate(**{n: DbSum(n) for n in names})
    }
    this_monday = today - timedelta(days=today.weekday())
    first_week = this_monday - timedelta(weeks=TREND_WEEKS - 1)
    weekly: dict[date | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TREND_STAGES, 0))
    week_rows: list[dict[str, Any]] = [
        dict(r)
        for r in DailyCohort.objects.filter(study_site_id__in=ids)
        .values("day")
        .annotate(**{n: DbSum(n) for n in TREND_STAGES})
    ]
    for r in week_rows:
        week = r["day"] - timedelta(days=r["day"].weekday())
        key = week if week >= first_week else None  # None: earlier than the trend
        for n in TREND_STAGES:
            weekly[key][n] += r[n] or 0
    weeks = [first_week + timedelta(weeks=k) for k in range(TREND_WEEKS)]

    # One system of cells: site x stage, the all-sites total per stage, week x trend stage.
    values: list[int] = []

    def cell(v: int | None) -> int:
        values.append(int(v or 0))
        return len(values) - 1

    site_cells = [[cell(per_site.get(i, {}).get(n)) for n in names] for i in ids]
    total_cells = [cell(sum(values[row[k]] for row in site_cells)) for k in range(len(names))]
    week_keys: list[date | None] = [None, *weeks]
    week_cells = [[cell(weekly[w][n]) for n in TREND_STAGES] for w in week_keys]
    sums = [Sum(total_cells[k], tuple(row[k] for row in site_cells)) for k in range(len(names))]
    for j, n in enumerate(TREND_STAGES):
        k = names.index(n)
        sums.append(Sum(total_cells[k], tuple(row[j] for row in week_cells)))
    hidden = suppress(values, sums)

    def show(indices: list[int]) -> list[str]:
        return [shown(values[i], i, hidden) for i in indices]

    labels = [f"{ss.site.name}" for ss in study_sites]
    sites = Table(
        "Funnel by site",
        tuple(label for _, label in STAGES),
        [*zip(labels, map(show, site_cells), strict=True), ("All sites", show(total_cells))],
    )
    trend_labels = ["Earlier", *(f"Week of {w:%d %b %Y}" for w in weeks)]
    trend = Table(
        "Weekly trend (by week received)",
        ("Received", "Handed off"),
        list(zip(trend_labels, map(show, week_cells), strict=True)),
    )
    handed = names.index("handed_off")
    progress_rows = []
    for ss, row in zip(study_sites, site_cells, strict=True):
        count = shown(values[row[handed]], row[handed], hidden)
        target = ss.enrollment_target
        share = "—"
        if target and count != HIDDEN:
            share = f"{round(100 * values[row[handed]] / target)}%"
        progress_rows.append((ss.site.name, [count, str(target or "—"), share]))
    progress = Table(
        "Progress to the enrollment target (handed off to the study team)",
        ("Handed off", "Target", "Share of target"),
        progress_rows,
    )
    return SponsorReport(sites, trend, progress)
