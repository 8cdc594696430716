"""The intake settings: API keys (org admins) and recruitment materials (site leads, admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.gatekeepers import get_api_key_for_user, get_material_for_user
from leads.intake.api_keys import api_key_create, api_key_revoke
from leads.intake.materials import material_save
from leads.intake_forms import ApiKeyForm, MaterialForm
from leads.models import ApiKey, RecruitmentMaterial
from leads.views.team import LEADS
from trialsnest.accounts.recent import recent_sign_in_required
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role

# API keys ----------------------------------------------------------------------------------

NEW_KEY = "new_api_keys"  # in the session: {code: secret} of new keys not yet shown


@member_required(Role.ORG_ADMIN)
@require_GET
def settings_api_keys(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    api_keys = ApiKey.objects.filter(organization=organization).order_by(
        F("revoked_at").desc(nulls_first=True), "name"
    )
    return render(request, "leads/settings_api_keys.html", {"api_keys": api_keys})


@member_required(Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def settings_api_key_new(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, secret = api_key_create(
                organization=organization,
                name=form.cleaned_data["name"],
                source=form.cleaned_data["source"],
                referral_partner=form.cleaned_data["referral_partner"],
                scopes=form.cleaned_data["scopes"],
                actor=Actor.of(request),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            # Post/redirect/get: a refresh of the page that shows the key re-sends no form. The
            # secret waits in the session for that one page, which takes it out.
            waiting = request.session.get(NEW_KEY) or {}
            request.session[NEW_KEY] = {**waiting, str(api_key.code): secret}
            return redirect("settings_api_key_created", code=api_key.code)
    return render(request, "leads/settings_api_keys_new.html", {"form": form})


@member_required(Role.ORG_ADMIN)
@require_GET
def settings_api_key_created(request: TenantRequest, code: str) -> HttpResponse:
    """The new key, once: shown again (a refresh, a second tab) it says it was shown."""
    api_key = get_api_key_for_user(request, code)
    waiting = dict(request.session.get(NEW_KEY) or {})
    secret = str(waiting.pop(str(api_key.code), ""))
    if secret:
        request.session[NEW_KEY] = waiting
    context = {"api_key": api_key, "secret": secret}
    response = render(request, "leads/settings_api_keys_created.html", context)
    add_never_cache_headers(response)
    return response


@member_required(Role.ORG_ADMIN)
@require_POST
def settings_api_key_revoke(request: TenantRequest, code: str) -> HttpResponse:
    api_key = get_api_key_for_user(request, code)
    api_key_revoke(api_key=api_key, actor=Actor.of(request))
    messages.success(request, f"{api_key.name} ({api_key.prefix}…) is revoked.")
    return redirect("settings_api_keys")


# Recruitment materials -----------------------------------------------------------------------


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def materials(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = MaterialForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        material = material_save(material=form.instance, actor=Actor.of(request))
        messages.success(request, f"Recorded {material.material_code}.")
        return redirect("materials")
    rows = (
        RecruitmentMaterial.objects.filter(organization_id=membership.organization_id)
        .select_related("study_site__site", "study_site__study")
        .order_by("material_code")
    )
    context = {"materials": rows, "form": form, "today": timezone.localdate()}
    return render(request, "leads/materials.html", context)


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def material_edit(request: TenantRequest, code: str) -> HttpResponse:
    material = get_material_for_user(request, code)
    membership = active_membership(request)
    form = MaterialForm(request.POST or None, instance=material, membership=membership)
    if request.method == "POST" and form.is_valid():
        material_save(material=form.instance, actor=Actor.of(request))
        messages.success(request, f"Saved {material.material_code}.")
        return redirect("materials")
    return render(request, "leads/material_edit.html", {"form": form, "material": material})
