"""Settings → Studies → import: org admins add catalog studies from a ClinicalTrials.gov file."""

from __future__ import annotations

from django.contrib import messages
from django.db import DataError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trialsnest.audit.services import Actor
from trialsnest.studies.forms import CtgovUploadForm
from trialsnest.studies.services import studies_import
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role


@member_required(Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_import(request: TenantRequest) -> HttpResponse:
    """Add or update catalog studies from a ClinicalTrials.gov file; a bad file imports nothing."""
    membership = active_membership(request)
    form = CtgovUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["file"].name
        try:
            result = studies_import(
                records=form.records,
                source=name,
                actor=Actor.of(request),
                organization_id=membership.organization_id,
            )
        except DataError as exc:
            reason = str(exc).splitlines()[0]
            form.add_error("file", f"{name}: a value does not fit the catalog ({reason}).")
        else:
            ids = ", ".join([*result.created, *result.updated])
            messages.success(
                request,
                f"Imported {name}: {len(result.created)} new, {len(result.updated)} updated "
                f"({ids}). Add a study to a site to recruit for it.",
            )
            return redirect("settings_study_sites")
    return render(request, "studies/settings_study_import.html", {"form": form})
