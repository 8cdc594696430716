"""The lead's timeline: entries are only ever added, each with the lead version it produced."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from leads.models import Activity, Lead
from trialsnest.audit.services import Actor
from trialsnest.lib.db import copy_rows


def activity_add(lead: Lead, kind: str, actor: Actor, at: datetime, **fields: Any) -> Activity:
    """Append one entry. Its data carries the lead's version, which conflicts are read from."""
    entry = activity_build(lead, kind, actor, at, **fields)
    entry.save(force_insert=True)
    return entry


def activity_build(lead: Lead, kind: str, actor: Actor, at: datetime, **fields: Any) -> Activity:
    """The entry `activity_add` appends, unsaved: for appending many at once (activities_add)."""
    data = dict(fields.pop("data", {}))
    data["version"] = lead.version
    return Activity(
        organization_id=lead.organization_id,
        lead=lead,
        kind=kind,
        actor=actor.user,
        at=at,
        data=data,
        **fields,
    )


ACTIVITY_COLUMNS = [
    "organization_id", "lead_id", "kind", "at", "actor_id", "channel", "direction", "outcome",
    "text", "data",
]  # fmt: skip


def activities_add(entries: Iterable[Activity]) -> int:
    """Append entries made by `activity_build`, in one COPY (they get no ids back); returns
    how many."""
    return copy_rows(
        "leads_activity",
        ACTIVITY_COLUMNS,
        (
            (e.organization_id, e.lead_id, e.kind, e.at, e.actor_id, e.channel, e.direction,
             e.outcome, e.text, json.dumps(e.data))
            for e in entries
        ),
    )  # fmt: skip
