"""A StudySite's records checklist, for its site leads."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from records import selectors, services
from records.forms import NewRequirementForm, RequirementForm
from records.gatekeepers import get_requirement_for_user
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import (
    get_study_site_for_user,
    member_required,
    not_for_sponsors,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role

LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)


@not_for_sponsors
@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def checklist(request: TenantRequest, code: str) -> HttpResponse:
    """The checklist, and a form to add an item to it."""
    study_site = get_study_site_for_user(request, code)
    waiting = services.waiting_leads(study_site).count()
    form = NewRequirementForm(request.POST or None, waiting=waiting)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.requirement_create(
                    study_site=study_site, actor=Actor.of(request), **form.cleaned_data
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                added = f"Added “{form.cleaned_data['name']}” to the checklist"
                if form.cleaned_data.get("add_to_waiting"):
                    added += f" and to the {waiting} lead{'s' if waiting != 1 else ''} waiting"
                messages.success(request, added + ".")
                return redirect("records_checklist", code=study_site.code)
        status = 422
    context = {
        "study_site": study_site,
        "requirements": list(selectors.checklist(study_site)),
        "form": form,
    }
    return render(request, "records/checklist.html", context, status=status)


@not_for_sponsors
@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def requirement_edit(request: TenantRequest, code: str) -> HttpResponse:
    requirement = get_requirement_for_user(request, code)
    form = RequirementForm(request.POST or None, instance=requirement)
    if request.method == "POST" and form.is_valid():
        try:
            services.requirement_update(
                requirement=requirement, actor=Actor.of(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Saved the checklist item.")
            return redirect("records_checklist", code=requirement.study_site.code)
    status = 422 if request.method == "POST" else 200
    context = {"requirement": requirement, "study_site": requirement.study_site, "form": form}
    return render(request, "records/requirement_edit.html", context, status=status)


@not_for_sponsors
@member_required(*LEADS)
@require_POST
def requirement_archive(request: TenantRequest, code: str) -> HttpResponse:
    requirement = get_requirement_for_user(request, code)
    services.requirement_archive(requirement=requirement, actor=Actor.of(request))
    messages.success(request, f"Took “{requirement.name}” off the checklist.")
    return redirect("records_checklist", code=requirement.study_site.code)
