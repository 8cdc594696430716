"""Records' part of a StudySite's launch checklist (trialsnest/studies/readiness.py)."""

from __future__ import annotations

from django.urls import reverse

from records.models import RecordRequirement
from trialsnest.studies.models import StudySite
from trialsnest.studies.readiness import Item, counted, readiness_check


@readiness_check("records", order=50)
def records(study_site: StudySite) -> Item:
    items = RecordRequirement.objects.filter(study_site=study_site).count()
    return Item(
        label="A records checklist",
        done=items > 0,
        detail=f"{counted(items, 'item')} to collect before scheduling"
        if items
        else "No records are listed: leads would skip straight to scheduling",
        fix_url=reverse("records_checklist", kwargs={"code": study_site.code}),
        fix_label="List the records to collect",
    )
