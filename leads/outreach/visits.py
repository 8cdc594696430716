"""The seam to scheduling: a template's visit time and address come from the lead's upcoming
appointment, which scheduling knows and leads must not import (scheduling imports leads).
Scheduling registers its lookup when its app is ready:

    from leads.outreach.visits import register_visit_lookup
    register_visit_lookup(upcoming_visit_of_lead)  # (lead) -> Visit | None

Until one is registered, no lead has an upcoming visit and a template naming one cannot be
sent (it says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from leads.models import Lead


@dataclass(frozen=True)
class Visit:
    starts_at: datetime
    address: str


VisitLookup = Callable[[Lead], Visit | None]
_lookups: list[VisitLookup] = []


def register_visit_lookup(lookup: VisitLookup) -> None:
    if lookup not in _lookups:
        _lookups.append(lookup)


def upcoming_visit(lead: Lead) -> Visit | None:
    for lookup in _lookups:
        visit = lookup(lead)
        if visit is not None:
            return visit
    return None
