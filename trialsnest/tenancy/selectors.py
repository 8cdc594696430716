"""Who may see what inside an organization: the membership restrictions, read in one place.

A member sees every StudySite of the organization unless their membership is restricted. Org
admins are never restricted. For anyone else, a restriction to sites admits every StudySite at
those sites, and a restriction to StudySites admits those; both add up.
"""

from __future__ import annotations

from typing import cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from guardian.shortcuts import get_users_with_perms

from trialsnest.accounts.models import User
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Organization, Role, Site

VISIBLE_IDS = "_visible_study_site_ids"


def report_viewers(study_site: StudySite) -> QuerySet[User]:
    """The sponsor viewers this StudySite's aggregate reports (and updates) are shared with."""
    viewers = get_users_with_perms(
        study_site, only_with_perms_in=["view_studysite_reports"], with_superusers=False
    )
    return cast("QuerySet[User]", viewers)  # a list only with attach_perms, not asked for


def visible_study_sites(membership: Membership) -> QuerySet[StudySite]:
    """StudySites whose leads this member may see."""
    study_sites = StudySite.objects.filter(organization_id=membership.organization_id)
    if membership.role == Role.ORG_ADMIN:
        return study_sites
    return study_sites.filter(study_site_restriction(membership))


def study_site_restriction(membership: Membership, *, through: str = "") -> Q:
    """The restriction of a member who is not an org admin, as a condition on a StudySite, or
    on the StudySite reached `through` a relation ("study_site__" from a lead): a lead looked
    up with its StudySite joined checks that row instead of joining a second StudySite in.

    Lazy subqueries, so the restriction costs no query of its own where it is used.
    """
    sites = Membership.restricted_sites.through.objects.filter(membership_id=membership.pk)
    chosen = Membership.restricted_study_sites.through.objects.filter(membership_id=membership.pk)
    return (
        (~Exists(sites) & ~Exists(chosen))
        | Q(**{f"{through}site_id__in": sites.values("site_id")})
        | Q(**{f"{through}id__in": chosen.values("studysite_id")})
    )


def visible_study_site_ids(membership: Membership) -> list[int] | None:
    """Ids of visible_study_sites(), or None for an org admin (the whole organization).

    A literal list lets PostgreSQL use the per-StudySite indexes on leads; it is computed once
    per membership object, which lives as long as its request.
    """
    if membership.role == Role.ORG_ADMIN:
        return None
    ids: list[int] | None = getattr(membership, VISIBLE_IDS, None)
    if ids is None:
        ids = sorted(visible_study_sites(membership).values_list("id", flat=True))
        setattr(membership, VISIBLE_IDS, ids)
    return ids


def members_who_see(study_site: StudySite) -> QuerySet[Membership]:
    """Active members whose restrictions let them see this StudySite (and so own its leads)."""
    sites = Membership.restricted_sites.through.objects.filter(membership_id=OuterRef("pk"))
    chosen = Membership.restricted_study_sites.through.objects.filter(membership_id=OuterRef("pk"))
    return Membership.objects.filter(
        organization_id=study_site.organization_id, is_active=True
    ).filter(
        Q(role=Role.ORG_ADMIN)
        | (~Exists(sites) & ~Exists(chosen))
        | Exists(sites.filter(site_id=study_site.site_id))
        | Exists(chosen.filter(studysite_id=study_site.pk))
    )


def usual_timezone(organization: Organization) -> str:
    """The time zone most of the organization's sites use ("" before its first site)."""
    row = (
        Site.objects.filter(organization=organization)
        .values("timezone")
        .annotate(n=Count("id"))
        .order_by("-n", "timezone")
        .first()
    )
    return str(row["timezone"]) if row else ""


def home_site(member: Membership) -> Site | None:
    """The member's site: the first they are restricted to, else the organization's first."""
    site = member.restricted_sites.order_by("id").first()
    if site is None:
        site = Site.objects.filter(organization_id=member.organization_id).order_by("id").first()
    return site
