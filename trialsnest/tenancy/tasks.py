from __future__ import annotations

from celery import shared_task

from trialsnest.tenancy.emails import send_invitation_email
from trialsnest.tenancy.models import Membership


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(membership_id: int, base_url: str) -> bool:
    membership = (
        Membership.objects.filter(pk=membership_id, is_active=True)
        .select_related("user", "organization")
        .first()
    )
    if membership is None or membership.user.has_usable_password():
        return False  # deactivated meanwhile, or already accepted: nothing to send
    send_invitation_email(membership, base_url)
    return True
