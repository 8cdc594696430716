from __future__ import annotations

from trialsnest.celery import durable_task
from trialsnest.tenancy.emails import send_added_email, send_invitation_email
from trialsnest.tenancy.models import Membership


@durable_task()
def send_invitation(membership_id: int, base_url: str) -> bool:
    membership = (
        Membership.objects.filter(pk=membership_id, is_active=True)
        .select_related("user", "organization")
        .first()
    )
    if membership is None:
        return False  # deactivated meanwhile: nothing to send
    if membership.user.has_usable_password():
        # Someone who already has an account (another organization's member) just signs in.
        send_added_email(membership, base_url)
    else:
        send_invitation_email(membership, base_url)
    return True
