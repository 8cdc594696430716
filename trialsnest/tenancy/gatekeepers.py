"""The one way views reach tenant-owned objects of the core (each app has its own gatekeepers).

Every `get_<thing>_for_user` looks the object up *inside the active organization* of the request,
so another organization's object is a 404 — never a 403 that would confirm it exists. Role checks
(which are about the user's own organization) answer 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Concatenate

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from guardian.shortcuts import get_objects_for_user

from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Role, Site, SponsorMembership
from trialsnest.tenancy.selectors import visible_study_sites

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

type View[R: HttpRequest, **P] = Callable[Concatenate[R, P], HttpResponseBase]


def active_membership(request: HttpRequest) -> Membership:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        raise PermissionDenied("No active organization.")
    return membership


def not_for_sponsors[R: HttpRequest, **P](view: View[R, P]) -> View[R, P]:
    """A page with patient data answers a signed-in sponsor viewer (no membership, a sponsor
    one) a 404, like an outsider: it does not even say the page exists. Put it above
    member_required, which answers other non-members."""

    def wrapped(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        member = getattr(request, "membership", None)
        if member is None and getattr(request, "sponsor_membership", None) is not None:
            raise Http404("Not found.")
        return view(request, *args, **kwargs)

    update_wrapper(wrapped, view)
    return wrapped


def member_required[R: HttpRequest, **P](
    *roles: Role,
) -> Callable[[View[R, P]], View[R, P]]:
    """Require a signed-in member of the active organization, optionally with one of `roles`."""

    def decorator(view: View[R, P]) -> View[R, P]:
        def wrapped(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership: Membership | None = getattr(request, "membership", None)
            if membership is None and getattr(request, "sponsor_membership", None) is not None:
                # A sponsor viewer is no member of any organization: like an outsider, they
                # are not even told that a staff page (or its object) exists.
                raise Http404("Not found.")
            if membership is None:
                if getattr(request, "has_other_organizations", False) or getattr(
                    request, "pending_invitations", 0
                ):
                    return redirect("choose_organization")
                raise PermissionDenied("This page is for members of an organization.")
            if roles and membership.role not in roles:
                raise PermissionDenied("Your role does not include this page.")
            return view(request, *args, **kwargs)

        update_wrapper(wrapped, view)
        return wrapped

    return decorator


def sponsor_viewer_required[R: HttpRequest, **P](view: View[R, P]) -> View[R, P]:
    def wrapped(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "sponsor_membership", None) is None:
            raise PermissionDenied("This page is for sponsor viewers.")
        return view(request, *args, **kwargs)

    update_wrapper(wrapped, view)
    return wrapped


def by_code[M: Model](queryset: QuerySet[M], code: Any) -> M:
    """The object of `queryset` with this public code, else a 404 (a malformed code too).

    Every gatekeeper, in the core and in the product's apps, is this over a queryset that is
    already limited to what the member may see.
    """
    try:
        parsed = uuid.UUID(str(code))
    except ValueError:
        raise Http404("Not found.") from None
    obj = queryset.filter(code=parsed).first()
    if obj is None:
        raise Http404("Not found.")
    return obj


def get_site_for_user(request: HttpRequest, code: Any) -> Site:
    membership = active_membership(request)
    return by_code(Site.objects.filter(organization_id=membership.organization_id), code)


def get_study_site_for_user(request: HttpRequest, code: Any) -> StudySite:
    membership = active_membership(request)
    queryset = visible_study_sites(membership).select_related("site", "study")
    return by_code(queryset, code)


def get_membership_for_user(request: HttpRequest, code: Any) -> Membership:
    membership = active_membership(request)
    queryset = Membership.objects.filter(organization_id=membership.organization_id)
    return by_code(queryset.select_related("user"), code)


def get_invitation_for_user(request: HttpRequest, code: Any) -> Membership:
    """A pending invitation of the signed-in user (anyone else's, or an answered one, is a 404)."""
    if not request.user.is_authenticated:
        raise Http404("Not found.")
    queryset = Membership.objects.filter(user_id=request.user.pk, pending=True)
    return by_code(queryset.select_related("organization"), code)


def sponsor_study_sites(user: AbstractBaseUser) -> QuerySet[StudySite]:
    """The StudySites an organization has shared with this sponsor viewer."""
    granted: QuerySet[StudySite] = get_objects_for_user(
        user, "studies.view_studysite_reports", klass=StudySite, accept_global_perms=False
    )
    return granted


def get_sponsor_membership(request: HttpRequest) -> SponsorMembership:
    sponsor: SponsorMembership | None = getattr(request, "sponsor_membership", None)
    if sponsor is None:
        raise PermissionDenied("This page is for sponsor viewers.")
    return sponsor
