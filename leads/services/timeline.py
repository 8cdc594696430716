"""The lead's timeline: entries are only ever added, each with the lead version it produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leads.models import Activity, Lead
from trialsnest.audit.services import Actor


def activity_add(lead: Lead, kind: str, actor: Actor, at: datetime, **fields: Any) -> Activity:
    """Append one entry. Its data carries the lead's version, which conflicts are read from."""
    data = dict(fields.pop("data", {}))
    data["version"] = lead.version
    return Activity.objects.create(
        organization_id=lead.organization_id,
        lead=lead,
        kind=kind,
        actor=actor.user,
        at=at,
        data=data,
        **fields,
    )
