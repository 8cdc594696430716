"""Settings → Sites and Studies: an org admin's sites, their time zones and their studies."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.lib.timezones import suggest_timezone, timezone_names
from trialsnest.studies.models import RecruitmentStatus, StudySite
from trialsnest.studies.readiness import readiness
from trialsnest.tenancy import services
from trialsnest.tenancy.forms import (
    SiteForm,
    StudySiteCreateForm,
    StudySiteEditForm,
)
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_site_for_user,
    get_study_site_for_user,
    member_required,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role, Site
from trialsnest.tenancy.selectors import report_viewers

ADMIN = Role.ORG_ADMIN


@member_required(ADMIN)
@require_GET
def settings_sites(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    sites = Site.objects.filter(organization=organization)
    return render(request, "tenancy/settings_sites.html", {"sites": sites})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_site_new(request: TenantRequest) -> HttpResponse:
    return _site_form(request, Site())


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_site_edit(request: TenantRequest, code: str) -> HttpResponse:
    return _site_form(request, get_site_for_user(request, code))


def _site_form(request: TenantRequest, site: Site) -> HttpResponse:
    organization = active_membership(request).organization
    form = SiteForm(request.POST or None, instance=site, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_save(
                site=form.instance,
                actor=Actor.of(request),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Saved {form.instance.name}.")
            return redirect("settings_sites")
    return render(request, "tenancy/settings_site_form.html", {"form": form, "site": site})


@member_required(ADMIN)
@require_GET
def settings_site_timezone(request: TenantRequest) -> HttpResponse:
    """The site form's time zone menu again, with the zone its state and country suggest
    selected (htmx, when either is changed): a suggestion before saving, to check. Without a
    suggestion the zone picked stays."""
    organization = active_membership(request).organization
    form = SiteForm(organization=organization)
    state, country = request.GET.get("state", ""), request.GET.get("country", "")
    picked = request.GET.get("timezone", "")
    zone = suggest_timezone(state=state, country=country)
    where = ", ".join(part.strip() for part in (state, country) if part.strip())
    form.initial["timezone"] = zone or (picked if picked in timezone_names() else "")
    context = {"form": form, "zone": zone, "where": where}
    return render(request, "tenancy/settings_site_form.html#timezone", context)


# StudySites --------------------------------------------------------------------------------


@member_required(ADMIN)
@require_GET
def settings_study_sites(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    study_sites = StudySite.objects.filter(organization=organization).select_related(
        "site", "study"
    )
    return render(request, "tenancy/settings_study_sites.html", {"study_sites": study_sites})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_site_new(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    form = StudySiteCreateForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.study_site_create(
                organization=organization,
                site=data.pop("site"),
                study=data.pop("study"),
                actor=Actor.of(request),
                **data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Study added to the site.")
            return redirect("settings_study_sites")
    return render(request, "tenancy/settings_study_site_new.html", {"form": form})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_site_edit(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    shared = report_viewers(study_site)
    form = StudySiteEditForm(
        request.POST or None, instance=study_site, initial={"sponsor_viewers": shared}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        viewers = data.pop("sponsor_viewers")
        try:
            services.study_site_update(
                study_site=study_site,
                viewers=viewers,
                actor=Actor.of(request),
                **data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("settings_study_sites")
    context = {
        "form": form,
        "study_site": study_site,
        "checklist": readiness(study_site),
        "launching": study_site.recruitment_status == RecruitmentStatus.NOT_YET_RECRUITING,
    }
    return render(request, "tenancy/settings_study_site_edit.html", context)


# Out of office ------------------------------------------------------------------------------
