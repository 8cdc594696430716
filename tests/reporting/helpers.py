"""Leads in many states for reporting tests, made by the app's services and then moved through
their milestones by a plain update (the milestones are what reporting reads)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from leads.models import Lead, Source
from tests.factories import many_leads
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership

MILESTONES = (
    "first_contact_at",
    "prescreened_at",
    "records_ready_at",
    "scheduled_at",
    "handed_off_at",
)
STATUS_AT = ("contacting", "prescreening", "records_ready", "visit_scheduled", "handed_off")


def spread_leads(
    *, study_site: StudySite, owner: Membership, n: int, now: datetime, seed: int = 1
) -> list[Lead]:
    """`n` leads received over the last 60 days, each at a random point of the funnel."""
    rng = random.Random(seed)
    leads = many_leads(study_site=study_site, owner=owner, n=n)
    for lead in leads:
        received = now - timedelta(days=rng.randint(0, 59), hours=rng.randint(0, 23))
        fields: dict[str, object] = {
            "received_at": received,
            "last_movement_at": received,
            "source": rng.choice([Source.WEB_FORM, Source.VENDOR_LIST, Source.WALK_IN]),
            "sla_due_at": received + timedelta(hours=rng.choice([4, 24])),
            "stale_at": received + timedelta(days=rng.choice([3, 90])),
        }
        reached = rng.randint(0, len(MILESTONES))
        at = received
        for k in range(reached):
            at = at + timedelta(hours=rng.randint(1, 60))
            fields[MILESTONES[k]] = at
        if reached:
            fields["status"] = STATUS_AT[reached - 1]
        if reached < len(MILESTONES) and rng.random() < 0.2:
            fields.update(status="closed", close_reason="not_interested", closed_at=at)
        if fields.get("status") in ("closed", "handed_off"):
            fields.update(next_action="", next_action_due_at=None)
        Lead.objects.filter(pk=lead.pk).update(**fields)
    return leads
