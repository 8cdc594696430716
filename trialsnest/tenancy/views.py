"""The shell (home, organization switch) and the org-admin settings screens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import DataError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from guardian.shortcuts import get_users_with_perms

from leads.api_keys import ApiKeyForm, api_key_create, api_key_revoke
from leads.models import ApiKey, RecruitmentMaterial
from trialsnest.accounts.models import User
from trialsnest.audit.services import audit_record, changed_fields
from trialsnest.studies.ctgov import import_records
from trialsnest.studies.models import StudySite
from trialsnest.tenancy import services
from trialsnest.tenancy.forms import (
    CtgovUploadForm,
    DeactivateForm,
    InviteForm,
    MaterialForm,
    MembershipForm,
    SiteForm,
    StudySiteCreateForm,
    StudySiteEditForm,
)
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_api_key_for_user,
    get_material_for_user,
    get_membership_for_user,
    get_site_for_user,
    get_study_site_for_user,
    member_required,
)
from trialsnest.tenancy.middleware import signed_in_user_id
from trialsnest.tenancy.models import Membership, Role, Site

ADMIN = Role.ORG_ADMIN


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _form_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for e in errors:
                form.add_error(field if field in form.fields else None, e)
    else:
        for message in error.messages:
            form.add_error(None, message)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands where its work is."""
    if not request.user.is_authenticated:
        return redirect("login")
    if getattr(request, "sponsor_membership", None) is not None:
        return redirect("sponsor_reports")
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        if getattr(request, "has_other_organizations", False):
            return redirect("choose_organization")
        return render(request, "tenancy/no_access.html")
    if membership.role == Role.ORG_ADMIN:
        return redirect("settings_users")
    if membership.role == Role.SITE_LEAD:
        return redirect("dashboard")
    return redirect("queue")


@login_required
@require_http_methods(["GET", "POST"])
def choose_organization(request: HttpRequest) -> HttpResponse:
    if getattr(request, "sponsor_membership", None) is not None:
        return redirect("home")
    memberships = Membership.objects.filter(user_id=signed_in_user_id(request), is_active=True)
    memberships = memberships.select_related("organization").order_by("organization__name")
    if request.method == "POST":
        chosen = next(
            (m for m in memberships if str(m.organization.code) == request.POST.get("code")),
            None,
        )
        if chosen is None:
            messages.error(request, "Pick one of your organizations.")
        else:
            request.session["organization"] = str(chosen.organization.code)
            return redirect("home")
    return render(request, "tenancy/choose_organization.html", {"memberships": memberships})


# Users -------------------------------------------------------------------------------------


@member_required(ADMIN)
@require_GET
def settings_users(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    members = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("restricted_sites", "restricted_study_sites__study")
        .order_by("-is_active", "user__email")
    )
    return render(request, "tenancy/settings_users.html", {"members": members})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_user_invite(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    form = InviteForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.membership_invite(
                organization=organization,
                email=data["email"],
                role=Role(data["role"]),
                first_name=data["first_name"],
                last_name=data["last_name"],
                sites=data["sites"],
                study_sites=data["study_sites"],
                actor=_actor(request),
                base_url=_base_url(request),
                request=request,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {data['email']}.")
            return redirect("settings_users")
    return render(request, "tenancy/settings_user_invite.html", {"form": form})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_user_edit(request: HttpRequest, code: str) -> HttpResponse:
    membership = get_membership_for_user(request, code)
    initial = {
        "role": membership.role,
        "sites": membership.restricted_sites.all(),
        "study_sites": membership.restricted_study_sites.all(),
    }
    form = MembershipForm(
        request.POST or None, initial=initial, organization=membership.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                membership=membership,
                role=Role(form.cleaned_data["role"]),
                sites=form.cleaned_data["sites"],
                study_sites=form.cleaned_data["study_sites"],
                actor=_actor(request),
                request=request,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Saved {membership.user.email}.")
            return redirect("settings_users")
    context = {"member": membership, "form": form, "deactivate_form": DeactivateForm()}
    return render(request, "tenancy/settings_user_edit.html", context)


@member_required(ADMIN)
@require_POST
def settings_user_deactivate(request: HttpRequest, code: str) -> HttpResponse:
    return _set_active(request, code, active=False)


@member_required(ADMIN)
@require_POST
def settings_user_reactivate(request: HttpRequest, code: str) -> HttpResponse:
    return _set_active(request, code, active=True)


def _set_active(request: HttpRequest, code: str, *, active: bool) -> HttpResponse:
    membership = get_membership_for_user(request, code)
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.membership_set_active(
            membership=membership,
            active=active,
            actor=_actor(request),
            reason=reason,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("settings_user_edit", code=membership.code)
    verb = "reactivated" if active else "deactivated; they are signed out on their next request"
    messages.success(request, f"{membership.user.email} {verb}.")
    return redirect("settings_users")


@member_required(ADMIN)
@require_POST
def settings_user_resend(request: HttpRequest, code: str) -> HttpResponse:
    membership = get_membership_for_user(request, code)
    try:
        services.membership_resend_invitation(
            membership=membership,
            actor=_actor(request),
            base_url=_base_url(request),
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent again to {membership.user.email}.")
    return redirect("settings_user_edit", code=membership.code)


# Sites -------------------------------------------------------------------------------------


@member_required(ADMIN)
@require_GET
def settings_sites(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    sites = Site.objects.filter(organization=organization)
    return render(request, "tenancy/settings_sites.html", {"sites": sites})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_site_new(request: HttpRequest) -> HttpResponse:
    return _site_form(request, Site())


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_site_edit(request: HttpRequest, code: str) -> HttpResponse:
    return _site_form(request, get_site_for_user(request, code))


def _site_form(request: HttpRequest, site: Site) -> HttpResponse:
    organization = active_membership(request).organization
    form = SiteForm(request.POST or None, instance=site, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_save(site=form.instance, actor=_actor(request), request=request)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Saved {form.instance.name}.")
            return redirect("settings_sites")
    return render(request, "tenancy/settings_site_form.html", {"form": form, "site": site})


# StudySites --------------------------------------------------------------------------------


@member_required(ADMIN)
@require_GET
def settings_study_sites(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    study_sites = StudySite.objects.filter(organization=organization).select_related(
        "site", "study"
    )
    return render(request, "tenancy/settings_study_sites.html", {"study_sites": study_sites})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_site_new(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    form = StudySiteCreateForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.study_site_create(
                organization=organization,
                site=data.pop("site"),
                study=data.pop("study"),
                actor=_actor(request),
                request=request,
                **data,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Study added to the site.")
            return redirect("settings_study_sites")
    return render(request, "tenancy/settings_study_site_new.html", {"form": form})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_site_edit(request: HttpRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    shared = get_users_with_perms(study_site, only_with_perms_in=["view_studysite_reports"])
    form = StudySiteEditForm(
        request.POST or None, instance=study_site, initial={"sponsor_viewers": shared}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        viewers = data.pop("sponsor_viewers")
        try:
            services.study_site_update(
                study_site=study_site, actor=_actor(request), request=request, **data
            )
            services.study_site_share(
                study_site=study_site, viewers=viewers, actor=_actor(request), request=request
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("settings_study_sites")
    context = {"form": form, "study_site": study_site}
    return render(request, "tenancy/settings_study_site_edit.html", context)


# API keys ----------------------------------------------------------------------------------


@member_required(ADMIN)
@require_GET
def settings_api_keys(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    api_keys = ApiKey.objects.filter(organization=organization).order_by(
        F("revoked_at").desc(nulls_first=True), "name"
    )
    return render(request, "tenancy/settings_api_keys.html", {"api_keys": api_keys})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_api_key_new(request: HttpRequest) -> HttpResponse:
    organization = active_membership(request).organization
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, secret = api_key_create(
                organization=organization,
                name=form.cleaned_data["name"],
                source=form.cleaned_data["source"],
                referral_partner=form.cleaned_data["referral_partner"],
                actor=_actor(request),
                request=request,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            # Shown on this one response and never again: no redirect, no caching.
            context = {"api_key": api_key, "secret": secret}
            response = render(request, "tenancy/settings_api_keys_created.html", context)
            add_never_cache_headers(response)
            return response
    return render(request, "tenancy/settings_api_keys_new.html", {"form": form})


@member_required(ADMIN)
@require_POST
def settings_api_key_revoke(request: HttpRequest, code: str) -> HttpResponse:
    api_key = get_api_key_for_user(request, code)
    api_key_revoke(api_key=api_key, actor=_actor(request), request=request)
    messages.success(request, f"{api_key.name} ({api_key.prefix}…) is revoked.")
    return redirect("settings_api_keys")


# ClinicalTrials.gov upload (Studies tab) ------------------------------------------------------


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_import(request: HttpRequest) -> HttpResponse:
    """Add or update catalog studies from a ClinicalTrials.gov file; a bad file imports nothing."""
    membership = active_membership(request)
    form = CtgovUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["file"].name
        try:
            with transaction.atomic():
                result = import_records(form.records)
                audit_record(
                    action="studies.imported",
                    actor=_actor(request),
                    organization_id=membership.organization_id,
                    object_type="study",
                    changes={"file": name, "created": result.created, "updated": result.updated},
                    request=request,
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
    return render(request, "tenancy/settings_study_import.html", {"form": form})


# Recruitment materials (site leads and org admins) ----------------------------------------------


def _material_save(form: MaterialForm, request: HttpRequest) -> RecruitmentMaterial:
    """Record a material version, audited in the same transaction."""
    created = form.instance.pk is None

    def plain(value: Any) -> Any:
        return getattr(value, "pk", value)

    changes = changed_fields(
        old={} if created else {n: plain(form.initial.get(n)) for n in form.changed_data},
        new={n: plain(form.cleaned_data[n]) for n in form.changed_data},
    )
    with transaction.atomic():
        material = form.save()
        audit_record(
            action="material.created" if created else "material.updated",
            actor=_actor(request),
            organization_id=material.organization_id,
            obj=material,
            changes=changes,
            request=request,
        )
    return material


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def materials(request: HttpRequest) -> HttpResponse:
    membership = active_membership(request)
    form = MaterialForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        material = _material_save(form, request)
        messages.success(request, f"Recorded {material.material_code}.")
        return redirect("materials")
    rows = (
        RecruitmentMaterial.objects.filter(organization_id=membership.organization_id)
        .select_related("study_site__site", "study_site__study")
        .order_by("material_code")
    )
    context = {"materials": rows, "form": form, "today": timezone.localdate()}
    return render(request, "tenancy/materials.html", context)


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def material_edit(request: HttpRequest, code: str) -> HttpResponse:
    material = get_material_for_user(request, code)
    membership = active_membership(request)
    form = MaterialForm(request.POST or None, instance=material, membership=membership)
    if request.method == "POST" and form.is_valid():
        _material_save(form, request)
        messages.success(request, f"Saved {material.material_code}.")
        return redirect("materials")
    return render(request, "tenancy/material_edit.html", {"form": form, "material": material})
