"""The site lead's scheduling settings: a site's resources, weekly hours, closures and public
holidays on one page, and the visit types of each StudySite."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from scheduling.forms import (
    CalendarForm,
    ClosureForm,
    ResourceForm,
    VisitTypeForm,
    WeeklyHoursForm,
)
from scheduling.gatekeepers import get_site_part, get_visit_type_for_user
from scheduling.models import Closure, Resource, VisitType, WeeklyHours
from scheduling.selectors import site_calendar
from scheduling.services.setup import setting_remove, setting_save, visit_type_save
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.gatekeepers import (
    get_site_for_user,
    get_study_site_for_user,
    member_required,
    not_for_sponsors,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role, Site

LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)


def _forms(site: Site, data: Any = None, which: str = "") -> dict[str, ModelForm[Any]]:
    def bound(name: str) -> Any:
        return data if which == name else None

    return {
        "resource": ResourceForm(
            bound("resource"), prefix="resource", instance=Resource(site=site)
        ),
        "hours": WeeklyHoursForm(bound("hours"), prefix="hours", instance=WeeklyHours(site=site)),
        "closure": ClosureForm(bound("closure"), prefix="closure", instance=Closure(site=site)),
        "calendar": CalendarForm(
            bound("calendar"), prefix="calendar", instance=site_calendar(site)
        ),
    }


@not_for_sponsors
@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def site_scheduling(request: TenantRequest, code: str) -> HttpResponse:
    site = get_site_for_user(request, code)
    which = request.POST.get("form", "")
    forms = _forms(site, request.POST, which) if request.method == "POST" else _forms(site)
    status = 200
    if request.method == "POST":
        form = forms.get(which)
        if form is None:
            raise Http404("Not found.")
        if form.is_valid():
            try:
                setting_save(obj=form.save(commit=False), actor=Actor.of(request))
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect(reverse("site_scheduling", kwargs={"code": site.code}))
        status = 422
    context = {
        "site": site,
        "forms": forms,
        "resources": Resource.objects.filter(site=site),
        "hours": WeeklyHours.objects.filter(site=site),
        "closures": Closure.objects.filter(site=site),
        "study_sites": StudySite.objects.filter(site=site).select_related("study"),
    }
    return render(request, "scheduling/site_scheduling.html", context, status=status)


@not_for_sponsors
@member_required(*LEADS)
@require_POST
def site_part_remove(request: TenantRequest, code: str, kind: str, part: str) -> HttpResponse:
    site = get_site_for_user(request, code)
    obj: WeeklyHours | Closure
    if kind == "hours":
        obj = get_site_part(site, WeeklyHours.objects.all(), part)
    elif kind == "closure":
        obj = get_site_part(site, Closure.objects.all(), part)
    else:
        raise Http404("Not found.")
    setting_remove(obj=obj, actor=Actor.of(request))
    messages.success(request, "Removed.")
    return redirect(reverse("site_scheduling", kwargs={"code": site.code}))


def _save_visit_type(request: TenantRequest, form: VisitTypeForm) -> str:
    """ "" when saved, else the form keeps the errors."""
    if not form.is_valid():
        return "invalid"
    try:
        visit_type_save(
            visit_type=form.save(commit=False),
            resources=form.cleaned_data["resources"],
            actor=Actor.of(request),
        )
    except ValidationError as error:
        add_errors(form, error)
        return "invalid"
    return ""


@not_for_sponsors
@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def visit_types(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    form = VisitTypeForm(
        request.POST or None, instance=VisitType(study_site=study_site), site=study_site.site
    )
    if request.method == "POST" and not _save_visit_type(request, form):
        messages.success(request, "Visit type saved.")
        return redirect(reverse("visit_types", kwargs={"code": study_site.code}))
    context = {
        "study_site": study_site,
        "visit_types": VisitType.objects.filter(study_site=study_site).prefetch_related(
            "resources"
        ),
        "form": form,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "scheduling/visit_types.html", context, status=status)


@not_for_sponsors
@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def visit_type_edit(request: TenantRequest, code: str) -> HttpResponse:
    visit_type = get_visit_type_for_user(request, code)
    study_site = visit_type.study_site
    form = VisitTypeForm(request.POST or None, instance=visit_type, site=study_site.site)
    if request.method == "POST" and not _save_visit_type(request, form):
        messages.success(request, "Visit type saved.")
        return redirect(reverse("visit_types", kwargs={"code": study_site.code}))
    status = 422 if request.method == "POST" else 200
    context = {"study_site": study_site, "visit_type": visit_type, "form": form}
    return render(request, "scheduling/visit_type_edit.html", context, status=status)
