"""Sponsor updates: the site lead's pages (draft, check, release), the sponsor's (read, print)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from reporting.forms import SponsorUpdateForm
from reporting.models import SponsorUpdate, UpdateStatus
from reporting.suppression import LEGEND
from reporting.updates import update_figures, update_release, update_save
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    by_code,
    get_sponsor_membership,
    get_study_site_for_user,
    member_required,
    sponsor_study_sites,
    sponsor_viewer_required,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role
from trialsnest.tenancy.selectors import visible_study_sites

STAFF = (Role.SITE_LEAD, Role.ORG_ADMIN)


@member_required(*STAFF)
@require_GET
def sponsor_updates(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    updates = SponsorUpdate.objects.filter(study_site=study_site).select_related(
        "created_by", "released_by"
    )
    context = {"study_site": study_site, "updates": updates}
    return render(request, "reporting/sponsor_updates.html", context)


def _staff_update(request: TenantRequest, code: str) -> SponsorUpdate:
    membership = active_membership(request)
    updates = SponsorUpdate.objects.filter(
        organization_id=membership.organization_id,
        study_site__in=visible_study_sites(membership),
    ).select_related("study_site__site", "study_site__study")
    return by_code(updates, code)


@member_required(*STAFF)
@require_http_methods(["GET", "POST"])
def sponsor_update_new(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    return _edit(request, study_site, None)


@member_required(*STAFF)
@require_http_methods(["GET", "POST"])
def sponsor_update_edit(request: TenantRequest, code: str) -> HttpResponse:
    update = _staff_update(request, code)
    if update.status == UpdateStatus.RELEASED:
        if request.method == "POST":
            messages.error(request, "A released update is kept as it was released.")
        return render(request, "reporting/sponsor_update.html", _shown(update, staff=True))
    return _edit(request, update.study_site, update)


def _edit(
    request: TenantRequest, study_site: StudySite, update: SponsorUpdate | None
) -> HttpResponse:
    form = SponsorUpdateForm(request.POST or None, instance=update)
    if request.method == "POST" and form.is_valid():
        actor = Actor.of(request)
        try:
            # One transaction: a refused release leaves no draft behind that the page, still
            # at its old address, would then save a second time.
            with transaction.atomic():
                saved = update_save(
                    study_site=study_site, actor=actor, update=update, **form.cleaned_data
                )
                if request.POST.get("release"):
                    saved = update_release(update=saved, actor=actor)
        except ValidationError as error:
            add_errors(form, error)
        else:
            if saved.number:
                messages.success(request, f"Update {saved.number} released to the sponsor.")
                return redirect("sponsor_updates", code=study_site.code)
            messages.success(request, "Draft saved. The sponsor sees nothing until you release it.")
            return redirect("sponsor_update_edit", code=saved.code)
    context = {
        "form": form,
        "study_site": study_site,
        "update": update,
        "figures": update_figures(study_site),
        "legend": LEGEND,
    }
    return render(request, "reporting/sponsor_update_form.html", context)


def _shown(update: SponsorUpdate, *, staff: bool) -> dict[str, Any]:
    return {"update": update, "staff": staff, "legend": LEGEND}


@sponsor_viewer_required
@require_GET
def sponsor_update_page(request: TenantRequest, code: str) -> HttpResponse:
    """A released update of a StudySite shared with this viewer, of their sponsor's study."""
    sponsor = get_sponsor_membership(request)
    shared = sponsor_study_sites(sponsor.user).filter(study__sponsor_id=sponsor.sponsor_id)
    updates = SponsorUpdate.objects.filter(
        status=UpdateStatus.RELEASED, study_site__in=shared
    ).select_related("study_site__site", "study_site__study")
    update = by_code(updates, code)
    return render(request, "reporting/sponsor_update.html", _shown(update, staff=False))
