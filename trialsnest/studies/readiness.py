"""Launch readiness: what a StudySite still lacks before it may start recruiting.

Each area of the product knows its own part (owners and SLA targets, the prescreen, the records
checklist, visit types and hours): it registers a check here from its AppConfig.ready(), so the
core asks them all without importing any of them. The StudySite settings page shows the list,
each item with a link to fix it, and study_site_update refuses to launch (from not yet
recruiting to recruiting) while an item is missing. A paused StudySite resumes without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from trialsnest.studies.models import StudySite


@dataclass(frozen=True)
class Item:
    label: str  # what is needed, e.g. "A published prescreen"
    done: bool
    detail: str  # what there is, or what is missing
    fix_url: str
    fix_label: str


Check = Callable[[StudySite], Item]
_CHECKS: dict[str, tuple[int, Check]] = {}


def readiness_check(name: str, order: int) -> Callable[[Check], Check]:
    """Register a check (once per name: an app's ready() may run twice in tests)."""

    def register(check: Check) -> Check:
        _CHECKS[name] = (order, check)
        return check

    return register


def counted(n: int, thing: str) -> str:
    """ "1 coordinator", "3 coordinators": how the items' details count."""
    return f"{n} {thing}{'' if n == 1 else 's'}"


def readiness(study_site: StudySite) -> list[Item]:
    return [check(study_site) for _, check in sorted(_CHECKS.values(), key=lambda c: c[0])]


def missing(study_site: StudySite) -> list[Item]:
    return [item for item in readiness(study_site) if not item.done]


@readiness_check("sponsor_update", order=90)
def _sponsor_viewers(study_site: StudySite) -> Item:
    # Who reads the sponsor's reports of this StudySite (and so its sponsor updates). Imported
    # here: tenancy's selectors import the studies models this module sits beside.
    from trialsnest.tenancy.selectors import report_viewers

    viewers = report_viewers(study_site).count()
    return Item(
        label="Who receives the sponsor update",
        done=viewers > 0,
        detail=f"Shared with {counted(viewers, 'sponsor viewer')}"
        if viewers
        else "Its reports are shared with no sponsor viewer yet",
        fix_url=reverse("settings_study_site_edit", kwargs={"code": study_site.code})
        + "#id_sponsor_viewers",
        fix_label="Share the reports",
    )
