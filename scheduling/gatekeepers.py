"""Gatekeepers of the scheduling app: appointments and visit types are reached only inside
what the active member may see (their organization, within their StudySite restrictions);
anything else is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from leads.models import Lead
from scheduling.models import Appointment, Closure, Resource, VisitType, WeeklyHours
from trialsnest.tenancy.gatekeepers import active_membership, by_code
from trialsnest.tenancy.models import Site
from trialsnest.tenancy.selectors import visible_study_site_ids


def _visible_study_sites(request: HttpRequest) -> tuple[int, list[int] | None]:
    membership = active_membership(request)
    return membership.organization_id, visible_study_site_ids(membership)


def get_appointment_for_user(request: HttpRequest, code: Any) -> Appointment:
    organization_id, ids = _visible_study_sites(request)
    queryset = Appointment.objects.filter(organization_id=organization_id).select_related(
        "lead__person", "lead__study_site__study", "visit_type__study_site__site", "site"
    )
    if ids is not None:
        queryset = queryset.filter(lead__study_site_id__in=ids)
    return by_code(queryset, code)


def get_visit_type_for_user(request: HttpRequest, code: Any) -> VisitType:
    organization_id, ids = _visible_study_sites(request)
    queryset = VisitType.objects.filter(organization_id=organization_id).select_related(
        "study_site__site", "study_site__study"
    )
    if ids is not None:
        queryset = queryset.filter(study_site_id__in=ids)
    return by_code(queryset, code)


def get_visit_type_of_lead(lead: Lead, code: Any) -> VisitType:
    """A bookable visit type of the lead's StudySite (the lead already passed its gatekeeper)."""
    queryset = VisitType.objects.filter(study_site_id=lead.study_site_id, is_active=True)
    return by_code(queryset.select_related("study_site__site"), code)


def get_site_part[M: (Resource, Closure, WeeklyHours)](
    site: Site, queryset: QuerySet[M], code: Any
) -> M:
    """A resource, closure or opening window of a site the member already reached."""
    return by_code(queryset.filter(site=site), code)
