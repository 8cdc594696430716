"""Scheduling's part of a StudySite's launch checklist (trialsnest/studies/readiness.py): a
visit type to book, with every resource it needs in service."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse

from scheduling.models import VisitType, WeeklyHours
from trialsnest.studies.models import StudySite
from trialsnest.studies.readiness import Item, counted, readiness_check


@readiness_check("scheduling", order=55)
def scheduling(study_site: StudySite) -> Item:
    bookable = (
        VisitType.objects.filter(study_site=study_site, is_active=True)
        .annotate(idle=Count("resources", filter=Q(resources__is_active=False)))
        .filter(idle=0)
        .count()
    )
    hours = (
        "weekly" if WeeklyHours.objects.filter(site_id=study_site.site_id).exists() else "business"
    )
    detail = (
        f"{counted(bookable, 'visit type')}, in the site's {hours} hours"
        if bookable
        else "No visit type whose rooms, staff and equipment are all in service"
    )
    return Item(
        label="Visit types and bookable capacity",
        done=bookable > 0,
        detail=detail,
        fix_url=reverse("visit_types", kwargs={"code": study_site.code}),
        fix_label="Set up visit types and hours",
    )
