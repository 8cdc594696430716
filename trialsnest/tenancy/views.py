"""The shell (home, organization switch) and the org-admin settings screens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trialsnest.accounts.recent import recent_sign_in_required
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy import invitations, services
from trialsnest.tenancy.forms import (
    AwayForm,
    DeactivateForm,
    InviteForm,
    MembershipForm,
)
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_invitation_for_user,
    get_membership_for_user,
    member_required,
    not_for_sponsors,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.middleware import signed_in_user_id
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import home_site

ADMIN = Role.ORG_ADMIN


def _base_url(request: TenantRequest) -> str:
    return request.build_absolute_uri("/")


@require_GET
def home(request: TenantRequest) -> HttpResponse:
    """Each role lands where its work is."""
    if not request.user.is_authenticated:
        return redirect("login")
    if getattr(request, "sponsor_membership", None) is not None:
        return redirect("sponsor_reports")
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        if request.has_other_organizations or request.pending_invitations:
            return redirect("choose_organization")
        return render(request, "tenancy/no_access.html")
    if membership.role == Role.ORG_ADMIN:
        return redirect("settings_users")
    if membership.role == Role.SITE_LEAD:
        return redirect("dashboard")
    return redirect("queue")


@login_required
@require_http_methods(["GET", "POST"])
def choose_organization(request: TenantRequest) -> HttpResponse:
    """Pick the organization to work in; invitations waiting for an answer are listed here."""
    if getattr(request, "sponsor_membership", None) is not None:
        return redirect("home")
    mine = Membership.objects.filter(user_id=signed_in_user_id(request))
    mine = mine.select_related("organization").order_by("organization__name")
    memberships = mine.filter(is_active=True)
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
    context = {"memberships": memberships, "invitations": mine.filter(pending=True)}
    return render(request, "tenancy/choose_organization.html", context)


@login_required
@require_POST
def invitation_accept(request: TenantRequest, code: str) -> HttpResponse:
    invitation = get_invitation_for_user(request, code)
    try:
        invitations.membership_accept(membership=invitation, actor=Actor.of(request))
    except ValidationError as error:  # answered meanwhile, in another tab
        messages.error(request, " ".join(error.messages))
        return redirect("choose_organization")
    request.session["organization"] = str(invitation.organization.code)
    messages.success(request, f"You joined {invitation.organization.name}.")
    return redirect("home")


@login_required
@require_POST
def invitation_decline(request: TenantRequest, code: str) -> HttpResponse:
    invitation = get_invitation_for_user(request, code)
    try:
        invitations.membership_decline(membership=invitation, actor=Actor.of(request))
    except ValidationError as error:  # answered meanwhile, in another tab
        messages.error(request, " ".join(error.messages))
    else:
        name = invitation.organization.name
        messages.success(request, f"You declined the invitation to {name}.")
    return redirect("choose_organization")


# Users -------------------------------------------------------------------------------------


@member_required(ADMIN)
@require_GET
def settings_users(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    members = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("restricted_sites", "restricted_study_sites__study")
        .order_by("-is_active", "-pending", "user__email")
    )
    context = {"members": members, "organization": organization}
    return render(request, "tenancy/settings_users.html", context)


@member_required(ADMIN)
@require_POST
def settings_two_factor(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    required = request.POST.get("two_factor_required") == "on"
    services.organization_require_two_factor(
        organization=organization,
        required=required,
        sponsors=request.POST.get("two_factor_for_sponsors") == "on",
        actor=Actor.of(request),
    )
    if required:
        messages.success(
            request, "Two-factor sign-in is required: each member sets it up at their next visit."
        )
    else:
        messages.success(request, "Two-factor sign-in is no longer required of every member.")
    return redirect("settings_users")


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
def settings_user_invite(request: TenantRequest) -> HttpResponse:
    organization = active_membership(request).organization
    form = InviteForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitations.membership_invite(
                organization=organization,
                email=data["email"],
                role=Role(data["role"]),
                first_name=data["first_name"],
                last_name=data["last_name"],
                sites=data["sites"],
                study_sites=data["study_sites"],
                actor=Actor.of(request),
                base_url=_base_url(request),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {data['email']}.")
            return redirect("settings_users")
    return render(request, "tenancy/settings_user_invite.html", {"form": form})


@member_required(ADMIN)
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def settings_user_edit(request: TenantRequest, code: str) -> HttpResponse:
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
                actor=Actor.of(request),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Saved {membership.user.email}.")
            return redirect("settings_users")
    context = {"member": membership, "form": form, "deactivate_form": DeactivateForm()}
    return render(request, "tenancy/settings_user_edit.html", context)


@member_required(ADMIN)
@require_POST
def settings_user_deactivate(request: TenantRequest, code: str) -> HttpResponse:
    return _set_active(request, code, active=False)


@member_required(ADMIN)
@require_POST
def settings_user_reactivate(request: TenantRequest, code: str) -> HttpResponse:
    return _set_active(request, code, active=True)


def _set_active(request: TenantRequest, code: str, *, active: bool) -> HttpResponse:
    membership = get_membership_for_user(request, code)
    form = DeactivateForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.membership_set_active(
            membership=membership,
            active=active,
            actor=Actor.of(request),
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("settings_user_edit", code=membership.code)
    verb = "reactivated" if active else "deactivated; they are signed out on their next request"
    messages.success(request, f"{membership.user.email} {verb}.")
    return redirect("settings_users")


@member_required(ADMIN)
@require_POST
def settings_user_resend(request: TenantRequest, code: str) -> HttpResponse:
    membership = get_membership_for_user(request, code)
    try:
        invitations.membership_resend_invitation(
            membership=membership,
            actor=Actor.of(request),
            base_url=_base_url(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent again to {membership.user.email}.")
    return redirect("settings_user_edit", code=membership.code)


# Sites -------------------------------------------------------------------------------------


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def away(request: TenantRequest) -> HttpResponse:
    """A member marks their own absence: reminders held, due leads shown to the site lead."""
    member = active_membership(request)
    site = home_site(member)
    zone = site.timezone if site else ""
    if request.method == "POST":
        form = AwayForm(request.POST, site_zone=zone)
        if form.is_valid():
            try:
                with transaction.atomic():
                    services.membership_set_away(
                        membership=member,
                        away_from=form.cleaned_data["away_from"],
                        away_until=form.cleaned_data["away_until"],
                        actor=Actor.of(request),
                    )
                    services.membership_set_timezone(
                        membership=member,
                        zone=form.cleaned_data["timezone"],
                        actor=Actor.of(request),
                    )
            except ValidationError as error:
                add_errors(form, error)
            else:
                until = member.away_until
                messages.success(
                    request, f"You are out until {until:%A %d %B}." if until else "Saved."
                )
                return redirect("away")
    else:
        form = AwayForm(
            initial={"away_from": member.away_from, "away_until": member.away_until,
                     "timezone": member.timezone},
            site_zone=zone,
        )  # fmt: skip
    return render(request, "tenancy/away.html", {"form": form})
