from __future__ import annotations

from django.db.models import Q

from trialsnest.accounts.models import User
from trialsnest.celery import durable_task
from trialsnest.tenancy.emails import (
    send_added_email,
    send_invitation_email,
    send_pending_invitation_email,
    send_sponsor_viewer_notice_email,
)
from trialsnest.tenancy.models import Membership, Organization


@durable_task()
def send_invitation(membership_id: int, base_url: str) -> bool:
    membership = (
        Membership.objects.filter(Q(is_active=True) | Q(pending=True), pk=membership_id)
        .select_related("user", "organization")
        .first()
    )
    if membership is None:
        return False  # deactivated or declined meanwhile: nothing to send
    if membership.pending:
        # Someone who already has an account: they sign in and accept or decline.
        send_pending_invitation_email(membership, base_url)
    elif membership.user.has_usable_password():
        # Accepted meanwhile, or chose their password before this ran.
        send_added_email(membership, base_url)
    else:
        send_invitation_email(membership, base_url)
    return True


@durable_task()
def send_sponsor_viewer_notice(user_id: int, organization_id: int) -> bool:
    user = User.objects.filter(pk=user_id).first()
    organization = Organization.objects.filter(pk=organization_id).first()
    if user is None or organization is None:
        return False
    send_sponsor_viewer_notice_email(user, organization)
    return True
