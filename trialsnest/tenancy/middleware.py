"""Session timeouts and the active organization of each request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from trialsnest.tenancy.gatekeepers import sponsor_study_sites
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Membership, SponsorMembership
from trialsnest.tenancy.principal import loaded_memberships


def signed_in_user_id(request: HttpRequest) -> int:
    user_id = request.user.pk
    if user_id is None:
        raise ValueError("No user is signed in.")
    return int(user_id)


# Writing the session on every request would cost a query per page; a minute of slack is fine.
SEEN_RESOLUTION = 60


def sign_out(request: TenantRequest, reason: str) -> None:
    request.logout_reason = reason  # read by the audit receiver
    logout(request)
    messages.info(request, reason)


class SessionTimeoutMiddleware:
    """Idle timeout (settings.SESSION_IDLE_TIMEOUT) and absolute timeout since sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            auth_at = float(session.get("auth_at", now))
            seen_at = float(session.get("seen_at", now))
            if now - seen_at > settings.SESSION_IDLE_TIMEOUT:
                sign_out(request, "You were signed out after a period of inactivity.")
            elif now - auth_at > settings.SESSION_ABSOLUTE_TIMEOUT:
                sign_out(request, "Your session ended. Please sign in again.")
            elif "auth_at" not in session or now - seen_at >= SEEN_RESOLUTION:
                session["auth_at"], session["seen_at"] = auth_at, now
        return self.get_response(request)


class ActiveMembershipMiddleware:
    """Sets request.membership (the active organization) and request.sponsor_membership.

    The active organization is remembered in the session. A user whose active membership was
    deactivated is signed out on their next request. Pending invitations give no access; they
    are only counted (request.pending_invitations, read from the same query) so the shell can
    point to the organization chooser where they are accepted.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        request.membership = None
        request.sponsor_membership = None
        request.has_other_organizations = False
        request.pending_invitations = 0
        request.two_factor_required = False
        if request.user.is_authenticated:
            self.resolve(request)
        return self.get_response(request)

    def resolve(self, request: TenantRequest) -> None:
        active_code = request.session.get("organization")
        every = loaded_memberships(request.user)  # type: ignore[arg-type]
        if every is None:  # read by another backend (a test's force_login with one)
            every = list(
                Membership.objects.filter(user_id=signed_in_user_id(request)).select_related(
                    "organization"
                )
            )
        memberships = [m for m in every if not m.pending]
        request.pending_invitations = len(every) - len(memberships)
        chosen = [m for m in memberships if str(m.organization.code) == active_code]
        live = [m for m in memberships if m.is_active]
        # Someone whose only way in is an invitation stays signed in to answer it.
        removed = memberships and not live and not request.pending_invitations
        if (chosen and not chosen[0].is_active) or removed:
            sign_out(request, "Your access to this organization was removed.")
            return
        request.has_other_organizations = len(live) > 1
        request.two_factor_required = any(m.organization.two_factor_required for m in live)
        if chosen:
            request.membership = chosen[0]
        elif len(live) == 1:
            request.membership = live[0]
            request.session["organization"] = str(live[0].organization.code)
        if not memberships:
            sponsor = (
                SponsorMembership.objects.filter(user_id=signed_in_user_id(request))
                .select_related("sponsor")
                .first()
            )
            if sponsor is not None and not sponsor.is_active:
                sign_out(request, "Your access was removed.")
                return
            request.sponsor_membership = sponsor
            if sponsor is not None:
                request.two_factor_required = (
                    sponsor_study_sites(request.user)  # type: ignore[arg-type]
                    .filter(organization__two_factor_for_sponsors=True)
                    .exists()
                )
