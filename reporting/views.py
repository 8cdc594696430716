from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from trialsnest.tenancy.gatekeepers import (
    get_sponsor_membership,
    member_required,
    sponsor_study_sites,
    sponsor_viewer_required,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def dashboard(request: TenantRequest) -> HttpResponse:
    return render(request, "reporting/dashboard.html")


@sponsor_viewer_required
@require_GET
def sponsor_reports(request: TenantRequest) -> HttpResponse:
    sponsor = get_sponsor_membership(request)
    study_sites = sponsor_study_sites(sponsor.user).select_related("study", "site")
    return render(request, "reporting/sponsor_reports.html", {"study_sites": study_sites})
