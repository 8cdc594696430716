"""Display strings and chart geometry for the dashboards (no queries here)."""

from __future__ import annotations

from dataclasses import dataclass

from reporting.selectors import STAGES, Figures, Trend

BAR_WIDTH = 600  # the SVG's own units; it scales to the page width


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: int
    y: int
    conversion: str  # from the stage before


def funnel_bars(figures: Figures) -> list[Bar]:
    top = max(figures.counts["received"], 1)
    bars, before = [], None
    for k, (name, label) in enumerate(STAGES):
        value = figures.counts[name]
        conversion = "" if before is None else percent(value, before)
        bars.append(Bar(label, value, round(BAR_WIDTH * value / top), 28 * k, conversion))
        before = value
    return bars


def percent(part: int, whole: int | None) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def trend_value(trend: Trend, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if trend.label == "Leads received" else f"{100 * value:.0f}%"


def trend_verdict(trend: Trend) -> str:
    if trend.direction == "flat" or trend.this_week is None or trend.before is None:
        return "no change"
    better = (trend.direction == "up") == trend.better_when_up
    if not trend.beyond_noise:
        return f"{trend.direction}, within week-to-week noise"
    return f"{trend.direction}, {'better' if better else 'worse'} beyond noise"


def metric_value(metric: str, value: float | None) -> str:
    """A headline measure as "Is it improving?" shows it: a count of leads, or a share."""
    if value is None:
        return "—"
    return f"{value:.0f}" if metric == "received" else f"{100 * value:.0f}%"
