"""The one way views reach tenant-owned objects.

Every `get_<thing>_for_user` looks the object up *inside the active organization* of the request,
so another organization's object is a 404 — never a 403 that would confirm it exists. Role checks
(which are about the user's own organization) answer 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from guardian.shortcuts import get_objects_for_user

from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Role, Site, SponsorMembership

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from leads.models import ApiKey, CsvImport, Lead, Person, RecruitmentMaterial, SavedView

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


def active_membership(request: HttpRequest) -> Membership:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        raise PermissionDenied("No active organization.")
    return membership


def member_required(*roles: Role) -> Callable[[View[P]], View[P]]:
    """Require a signed-in member of the active organization, optionally with one of `roles`."""

    def decorator(view: View[P]) -> View[P]:
        def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership: Membership | None = getattr(request, "membership", None)
            if membership is None:
                if getattr(request, "has_other_organizations", False):
                    return redirect("choose_organization")
                raise PermissionDenied("This page is for members of an organization.")
            if roles and membership.role not in roles:
                raise PermissionDenied("Your role does not include this page.")
            return view(request, *args, **kwargs)

        update_wrapper(wrapped, view)
        return wrapped

    return decorator


def sponsor_viewer_required[**P](view: View[P]) -> View[P]:
    def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "sponsor_membership", None) is None:
            raise PermissionDenied("This page is for sponsor viewers.")
        return view(request, *args, **kwargs)

    update_wrapper(wrapped, view)
    return wrapped


def _by_code[M: Model](queryset: QuerySet[M], code: Any) -> M:
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
    return _by_code(Site.objects.filter(organization_id=membership.organization_id), code)


def get_study_site_for_user(request: HttpRequest, code: Any) -> StudySite:
    membership = active_membership(request)
    queryset = membership.visible_study_sites().select_related("site", "study")
    return _by_code(queryset, code)


def get_membership_for_user(request: HttpRequest, code: Any) -> Membership:
    membership = active_membership(request)
    queryset = Membership.objects.filter(organization_id=membership.organization_id)
    return _by_code(queryset.select_related("user"), code)


def get_lead_for_user(request: HttpRequest, code: Any) -> Lead:
    """A lead the active member may see (their organization, within their restrictions)."""
    from leads.selectors import visible_leads

    membership = active_membership(request)
    queryset = visible_leads(membership).select_related(
        "person", "study_site__site", "study_site__study", "owner__user"
    )
    return _by_code(queryset, code)


def get_saved_view_for_user(request: HttpRequest, code: Any) -> SavedView:
    """A saved queue view the active member owns (shared views are not theirs to delete)."""
    from leads.models import SavedView

    membership = active_membership(request)
    return _by_code(SavedView.objects.filter(owner=membership), code)


def get_csv_import_for_user(request: HttpRequest, code: Any) -> CsvImport:
    """A CSV import of the active organization, at a StudySite the member may see."""
    from leads.models import CsvImport

    membership = active_membership(request)
    queryset = CsvImport.objects.filter(organization_id=membership.organization_id)
    ids = membership.visible_study_site_ids()
    if ids is not None:
        queryset = queryset.filter(study_site_id__in=ids)
    return _by_code(queryset.select_related("study_site__site", "study_site__study"), code)


def get_person_for_user(request: HttpRequest, code: Any) -> Person:
    """A person of the active organization (for site leads and org admins: people span sites)."""
    from leads.models import Person

    membership = active_membership(request)
    return _by_code(Person.objects.filter(organization_id=membership.organization_id), code)


def get_material_for_user(request: HttpRequest, code: Any) -> RecruitmentMaterial:
    """A recruitment material of the active organization."""
    from leads.models import RecruitmentMaterial

    membership = active_membership(request)
    return _by_code(
        RecruitmentMaterial.objects.filter(organization_id=membership.organization_id), code
    )


def get_api_key_for_user(request: HttpRequest, code: Any) -> ApiKey:
    """An intake API key of the active organization."""
    from leads.models import ApiKey

    membership = active_membership(request)
    return _by_code(ApiKey.objects.filter(organization_id=membership.organization_id), code)


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
