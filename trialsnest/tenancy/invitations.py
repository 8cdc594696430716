"""Invitations: an org admin invites by e-mail; someone who already has an account accepts.

A new address gets an account without a password and a link to choose one; its membership is
active at once (choosing the password is the acceptance). An address that already has an
account gets a *pending* membership that gives no access anywhere until its user accepts it on
the organization chooser (or declines it, which removes it). A sponsor viewer's address gets the
same answer on the form as any other, no membership, and a neutral notice by e-mail: the form
must not tell an organization which addresses are sponsor viewers.

Each function is atomic and writes its audit event in the same transaction; e-mails go out
after commit through Celery.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from trialsnest.accounts.models import User
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.ops.outbox import enqueue
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Organization, Role, Site, SponsorMembership
from trialsnest.tenancy.services import check_restrictions, restriction_changes


@transaction.atomic
def membership_invite(
    *,
    organization: Organization,
    email: str,
    role: Role,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    sites: Iterable[Site] = (),
    study_sites: Iterable[StudySite] = (),
    base_url: str = "",
) -> Membership | None:
    """Invite someone by e-mail. Returns the new membership: active for a new account, pending
    for an existing one; None for a sponsor viewer (who only gets a notice)."""
    email = email.strip().lower()
    sites, study_sites = list(sites), list(study_sites)
    check_restrictions(organization, sites, study_sites)
    user = User.objects.filter(email=email).first()
    if user is not None and SponsorMembership.objects.filter(user=user).exists():
        _notify_sponsor_viewer(user, organization, actor)
        return None
    existing = (
        Membership.objects.filter(user=user, organization=organization).first() if user else None
    )
    if existing is not None and existing.pending:
        raise ValidationError(
            {"email": "This person is already invited; you can send the invitation again."}
        )
    if existing is not None:
        raise ValidationError({"email": "This person is already a member of the organization."})
    pending = user is not None
    if user is None:
        user = User.objects.create_user(email, first_name=first_name, last_name=last_name)
    membership = Membership.objects.create(
        user=user, organization=organization, role=role, pending=pending, is_active=not pending
    )
    membership.restricted_sites.set(sites)
    membership.restricted_study_sites.set(study_sites)
    audit_record(
        action="membership.invited",
        actor=actor.user,
        organization=organization,
        obj=membership,
        changes={
            "role": {"old": None, "new": role},
            "pending": {"old": None, "new": pending},
            **restriction_changes({}, membership),
        },
        request=actor.request,
    )
    _send_invitation_after_commit(membership, base_url)
    return membership


def _notify_sponsor_viewer(user: User, organization: Organization, actor: Actor) -> None:
    # Recorded for the operators; an organization-facing audit view must not show it, or it
    # would tell the organization what the form keeps to itself.
    audit_record(
        action="membership.invitation_not_sent",
        actor=actor.user,
        organization=organization,
        obj=user,
        reason="The address belongs to a sponsor viewer; they were sent a notice.",
        request=actor.request,
    )
    enqueue("trialsnest.tenancy.tasks.send_sponsor_viewer_notice", user.pk, organization.pk)


def _send_invitation_after_commit(membership: Membership, base_url: str) -> None:
    from trialsnest.tenancy.tasks import send_invitation

    membership_id = membership.pk
    transaction.on_commit(lambda: send_invitation.delay(membership_id, base_url))


@transaction.atomic
def membership_resend_invitation(*, membership: Membership, actor: Actor, base_url: str) -> None:
    if not membership.pending and membership.user.has_usable_password():
        raise ValidationError("This person has already set a password.")
    if not membership.pending and not membership.is_active:
        raise ValidationError("This person is deactivated; reactivate them first.")
    audit_record(
        action="membership.invitation_resent",
        actor=actor.user,
        organization=membership.organization,
        obj=membership,
        request=actor.request,
    )
    _send_invitation_after_commit(membership, base_url)


def _pending(membership: Membership) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.pending:
        raise ValidationError("This invitation has already been answered.")
    return membership


@transaction.atomic
def membership_accept(*, membership: Membership, actor: Actor) -> Membership:
    """The invited user accepts: the membership becomes active, with the role and
    restrictions the organization gave it."""
    membership = _pending(membership)
    membership.pending, membership.is_active = False, True
    membership.save(update_fields=["pending", "is_active"])
    audit_record(
        action="membership.invitation_accepted",
        actor=actor.user,
        organization=membership.organization,
        obj=membership,
        changes=changed_fields(
            old={"pending": True, "is_active": False}, new={"pending": False, "is_active": True}
        ),
        request=actor.request,
    )
    return membership


@transaction.atomic
def membership_decline(*, membership: Membership, actor: Actor) -> None:
    """The invited user declines: the pending membership goes (it never gave access or owned
    anything), so the organization may invite them again later; the audit trail keeps it."""
    membership = _pending(membership)
    audit_record(
        action="membership.invitation_declined",
        actor=actor.user,
        organization=membership.organization,
        obj=membership,
        changes={"role": {"old": membership.role, "new": None}},
        request=actor.request,
    )
    membership.delete()
