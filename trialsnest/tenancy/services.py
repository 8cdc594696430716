"""Writes to tenancy: roles, restrictions, deactivation, sites and StudySites (invitations are
in trialsnest/tenancy/invitations.py).

Each function is atomic and writes its audit event in the same transaction; e-mails go out
after commit through Celery.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from trialsnest.accounts.models import User
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.lib.text import LINE_MAX, NOTE_MAX, check_text
from trialsnest.lib.timezones import timezone_names
from trialsnest.studies import readiness
from trialsnest.studies.models import RecruitmentStatus, Study, StudySite
from trialsnest.studies.signals import recruitment_status_changed
from trialsnest.tenancy.models import Membership, Organization, Role, Site
from trialsnest.tenancy.selectors import report_viewers

SITE_FIELDS = (
    "name",
    "timezone",
    "opens_at",
    "closes_at",
    "business_days",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
)
STUDY_SITE_FIELDS = (
    "recruitment_status",
    "enrollment_target",
    "lay_summary",
    "lay_summary_es",
    "rank",
)
REPORT_PERMISSION = "studies.view_studysite_reports"
NEW_NOT_RECRUITING = (
    "A new study at a site starts as not yet recruiting: set it to recruiting on its page once "
    "its launch checklist is complete."
)


def restrictions_of(membership: Membership) -> dict[str, Any]:
    return {
        "restricted_sites": [str(s.code) for s in membership.restricted_sites.all()],
        "restricted_study_sites": [str(s.code) for s in membership.restricted_study_sites.all()],
    }


def check_restrictions(
    organization: Organization, sites: Iterable[Site], study_sites: Iterable[StudySite]
) -> None:
    organizations = {s.organization_id for s in sites} | {s.organization_id for s in study_sites}
    if organizations - {organization.pk}:
        raise ValidationError("Restrictions must name this organization's sites and studies.")


def restriction_changes(before: dict[str, Any], membership: Membership) -> dict[str, Any]:
    after = restrictions_of(membership)
    return (
        changed_fields(old=before, new=after)
        if before
        else {k: {"old": None, "new": v} for k, v in after.items() if v}
    )


def _other_active_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(
            organization_id=membership.organization_id, role=Role.ORG_ADMIN, is_active=True
        )
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def membership_update(
    *,
    membership: Membership,
    role: Role,
    sites: Iterable[Site],
    study_sites: Iterable[StudySite],
    actor: Actor,
) -> Membership:
    """Change role and restrictions; each kind of change is its own audit event."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    sites, study_sites = list(sites), list(study_sites)
    check_restrictions(membership.organization, sites, study_sites)
    if (
        membership.role == Role.ORG_ADMIN
        and role != Role.ORG_ADMIN
        and not _other_active_admins(membership)
    ):
        raise ValidationError({"role": "The organization needs at least one active org admin."})
    if role != membership.role:
        audit_record(
            action="membership.role_changed",
            actor=actor.user,
            organization=membership.organization,
            obj=membership,
            changes=changed_fields(old={"role": membership.role}, new={"role": role}),
            request=actor.request,
        )
        membership.role = role
        membership.save(update_fields=["role"])
    before = restrictions_of(membership)
    membership.restricted_sites.set(sites)
    membership.restricted_study_sites.set(study_sites)
    changes = restriction_changes(before, membership)
    if changes:
        audit_record(
            action="membership.restrictions_changed",
            actor=actor.user,
            organization=membership.organization,
            obj=membership,
            changes=changes,
            request=actor.request,
        )
    return membership


@transaction.atomic
def membership_set_active(
    *,
    membership: Membership,
    active: bool,
    actor: Actor,
    reason: str = "",
) -> Membership:
    """Deactivate (the user is signed out on their next request) or reactivate a member."""
    check_text(reason, field="reason", max_length=LINE_MAX)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.pending:
        # Reactivating would let the organization skip the invited user's consent.
        raise ValidationError("This invitation waits for its answer; it gives no access yet.")
    if membership.is_active == active:
        return membership
    if not active:
        if actor.user is not None and membership.user_id == actor.user.pk:
            raise ValidationError("You cannot deactivate yourself.")
        if membership.role == Role.ORG_ADMIN and not _other_active_admins(membership):
            raise ValidationError("The organization needs at least one active org admin.")
    membership.is_active = active
    membership.deactivated_at = None if active else timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    audit_record(
        action="membership.reactivated" if active else "membership.deactivated",
        actor=actor.user,
        organization=membership.organization,
        obj=membership,
        changes=changed_fields(old={"is_active": not active}, new={"is_active": active}),
        reason=reason,
        request=actor.request,
    )
    return membership


def _snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


@transaction.atomic
def site_save(*, site: Site, actor: Actor) -> Site:
    """Create or update a site (the caller sets its organization and fields)."""
    site.full_clean()
    before = _snapshot(Site.objects.get(pk=site.pk), SITE_FIELDS) if site.pk else {}
    created = site.pk is None
    site.save()
    audit_record(
        action="site.created" if created else "site.updated",
        actor=actor.user,
        organization=site.organization,
        obj=site,
        changes=changed_fields(old=before, new=_snapshot(site, SITE_FIELDS)),
        request=actor.request,
    )
    return site


def _check_lay_summary(fields: dict[str, Any]) -> None:
    for name in ("lay_summary", "lay_summary_es"):
        check_text(fields.get(name) or "", field=name, max_length=NOTE_MAX, multiline=True)


@transaction.atomic
def study_site_create(
    *,
    organization: Organization,
    site: Site,
    study: Study,
    actor: Actor,
    **fields: Any,
) -> StudySite:
    if site.organization_id != organization.pk:
        raise ValidationError({"site": "Pick one of this organization's sites."})
    if StudySite.objects.filter(site=site, study=study).exists():
        raise ValidationError({"study": "This study already runs at this site."})
    _check_lay_summary(fields)
    if fields.get("recruitment_status") == RecruitmentStatus.RECRUITING:
        raise ValidationError({"recruitment_status": NEW_NOT_RECRUITING})
    study_site = StudySite(organization=organization, site=site, study=study, **fields)
    study_site.full_clean()
    study_site.save()
    audit_record(
        action="study_site.created",
        actor=actor.user,
        organization=organization,
        obj=study_site,
        changes=changed_fields(
            old={},
            new={
                "site": str(site.code),
                "study": study.nct_id or str(study.code),
                **_snapshot(study_site, STUDY_SITE_FIELDS),
            },
        ),
        request=actor.request,
    )
    return study_site


@transaction.atomic
def study_site_update(
    *,
    study_site: StudySite,
    actor: Actor,
    viewers: Iterable[User] | None = None,
    **fields: Any,
) -> StudySite:
    """Change a StudySite's settings and, when `viewers` is given, who its reports are shared
    with: all of it or (a refused share, say) none of it."""
    _check_lay_summary(fields)
    study_site = StudySite.objects.select_for_update().get(pk=study_site.pk)
    before = _snapshot(study_site, STUDY_SITE_FIELDS)
    for name, value in fields.items():
        if name not in STUDY_SITE_FIELDS:
            raise ValueError(f"{name} cannot be changed here")
        setattr(study_site, name, value)
    study_site.full_clean()
    study_site.save()
    changes = changed_fields(old=before, new=_snapshot(study_site, STUDY_SITE_FIELDS))
    if "recruitment_status" in changes:
        # Paused or closed: the product's apps hold its work (leads wait, "study paused").
        recruitment_status_changed.send(sender=StudySite, study_site=study_site, actor=actor)
    if changes:
        audit_record(
            action="study_site.updated",
            actor=actor.user,
            organization=study_site.organization,
            obj=study_site,
            changes=changes,
            request=actor.request,
        )
    if viewers is not None:
        study_site_share(study_site=study_site, viewers=viewers, actor=actor)
    launching = before["recruitment_status"] == RecruitmentStatus.NOT_YET_RECRUITING
    launching &= study_site.recruitment_status == RecruitmentStatus.RECRUITING
    if launching and (to_do := readiness.missing(study_site)):
        # Raised last, so the transaction undoes the whole save.
        items = "; ".join(item.label.lower() for item in to_do)
        raise ValidationError({"recruitment_status": f"Not ready to recruit: {items}."})
    return study_site


@transaction.atomic
def study_site_share(
    *,
    study_site: StudySite,
    viewers: Iterable[User],
    actor: Actor,
) -> None:
    """Grant exactly `viewers` (sponsor viewers of the study's sponsor) this StudySite's reports."""
    viewers = list(viewers)
    sponsor_id = study_site.study.sponsor_id
    for viewer in viewers:
        membership = getattr(viewer, "sponsor_membership", None)
        if membership is None or membership.sponsor_id != sponsor_id:
            raise ValidationError("Reports can only be shared with the study sponsor's viewers.")
    current = set(report_viewers(study_site))
    wanted = set(viewers)
    for user in wanted - current:
        assign_perm(REPORT_PERMISSION, user, study_site)
    for user in current - wanted:
        remove_perm(REPORT_PERMISSION, user, study_site)
    if wanted != current:
        audit_record(
            action="study_site.sharing_changed",
            actor=actor.user,
            organization=study_site.organization,
            obj=study_site,
            changes=changed_fields(
                old={"sponsor_viewers": [str(u.code) for u in current]},
                new={"sponsor_viewers": [str(u.code) for u in wanted]},
            ),
            request=actor.request,
        )


AWAY_MAX_DAYS = 366


@transaction.atomic
def membership_set_away(
    *, membership: Membership, away_from: date | None, away_until: date | None, actor: Actor
) -> Membership:
    """Mark (or, with no dates, end) the member's out-of-office period, both days included."""
    today = timezone.localdate()
    if (away_from is None) != (away_until is None):
        field = "away_until" if away_until is None else "away_from"
        raise ValidationError({field: "Give both the first and the last day, or neither."})
    if away_from is not None and away_until is not None:
        if away_until < away_from:
            raise ValidationError({"away_until": "The last day comes on or after the first."})
        if away_until < today:
            raise ValidationError({"away_until": "Pick a last day that is today or later."})
        if (away_until - today).days > AWAY_MAX_DAYS:
            raise ValidationError({"away_until": "Pick a last day within a year."})
    before = {"away_from": membership.away_from, "away_until": membership.away_until}
    membership.away_from, membership.away_until = away_from, away_until
    membership.save(update_fields=["away_from", "away_until"])
    audit_record(
        action="membership.away_set",
        actor=actor.user,
        organization_id=membership.organization_id,
        obj=membership,
        changes=changed_fields(old=before, new={"away_from": away_from, "away_until": away_until}),
        request=actor.request,
    )
    return membership


@transaction.atomic
def membership_set_timezone(*, membership: Membership, zone: str, actor: Actor) -> Membership:
    """The member's own clock for their digest ("" for their home site's)."""
    if zone and zone not in timezone_names():
        raise ValidationError({"timezone": f"“{zone}” is not a known time zone."})
    if zone == membership.timezone:
        return membership
    before, membership.timezone = membership.timezone, zone
    membership.save(update_fields=["timezone"])
    audit_record(
        action="membership.timezone_set",
        actor=actor.user,
        organization_id=membership.organization_id,
        obj=membership,
        changes={"timezone": {"old": before, "new": zone}},
        request=actor.request,
    )
    return membership


@transaction.atomic
def organization_require_two_factor(
    *, organization: Organization, required: bool, actor: Actor, sponsors: bool | None = None
) -> None:
    """Every member signs in with a second factor (each enrols at their next request); with
    `sponsors`, the sponsor viewers it shares reports with too (else they are exempt)."""
    before = {
        "two_factor_required": organization.two_factor_required,
        "two_factor_for_sponsors": organization.two_factor_for_sponsors,
    }
    after = {
        "two_factor_required": required,
        "two_factor_for_sponsors": before["two_factor_for_sponsors"] if sponsors is None
        else sponsors,
    }  # fmt: skip
    if before == after:
        return
    organization.two_factor_required = after["two_factor_required"]
    organization.two_factor_for_sponsors = after["two_factor_for_sponsors"]
    organization.save(update_fields=list(after))
    audit_record(
        action="organization.two_factor_required",
        actor=actor.user,
        organization=organization,
        obj=organization,
        changes=changed_fields(old=before, new=after),
        request=actor.request,
    )
