"""A paused or closed StudySite holds its open leads ("study paused"); resuming frees them.

The core's StudySite settings announce the change with `recruitment_status_changed`; the
receiver in leads/receivers.py calls this in the same transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leads.models import OPEN_STATUSES, Activity, ActivityKind, Blocker, Lead
from trialsnest.audit.services import Actor, audit_record
from trialsnest.studies.models import RecruitmentStatus, StudySite


@transaction.atomic
def study_site_hold_changed(*, study_site: StudySite, actor: Actor) -> int:
    """Set-based: one UPDATE for the leads and one INSERT for their timeline entries."""
    holding = study_site.recruitment_status != RecruitmentStatus.RECRUITING
    open_leads = Lead.objects.filter(study_site=study_site, status__in=OPEN_STATUSES)
    new_blocker: str
    if holding:
        targets = open_leads.exclude(blocker=Blocker.STUDY_PAUSED)
        new_blocker = Blocker.STUDY_PAUSED
    else:
        targets = open_leads.filter(blocker=Blocker.STUDY_PAUSED)
        new_blocker = ""
    ids = list(targets.values_list("id", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Lead.objects.filter(id__in=ids).update(
        blocker=new_blocker, blocker_text="", version=F("version") + 1
    )
    Activity.objects.bulk_create(
        Activity(
            organization_id=study_site.organization_id,
            lead_id=lead_id,
            kind=ActivityKind.BLOCKER,
            actor=actor.user,
            at=now,
            data={"blocker": new_blocker, "version": version},
        )
        for lead_id, version in Lead.objects.filter(id__in=ids).values_list("id", "version")
    )
    audit_record(
        action="study_site.leads_held" if holding else "study_site.leads_released",
        actor=actor.user,
        organization_id=study_site.organization_id,
        obj=study_site,
        changes={
            "blocker": {"old": None, "new": new_blocker},
            "leads": {"old": 0, "new": len(ids)},
        },
        request=actor.request,
    )
    return len(ids)
