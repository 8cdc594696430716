from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from trialsnest.tenancy.gatekeepers import (
    member_required,
    sponsor_study_sites,
    sponsor_viewer_required,
)
from trialsnest.tenancy.models import Role


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/dashboard.html")


@sponsor_viewer_required
@require_GET
def sponsor_reports(request: HttpRequest) -> HttpResponse:
    study_sites = sponsor_study_sites(request.user).select_related("study", "site")  # type: ignore[arg-type]
    return render(request, "reporting/sponsor_reports.html", {"study_sites": study_sites})
