from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from trialsnest.accounts.models import User
from trialsnest.tenancy.models import Membership, Organization


def _send(name: str, to: str, context: dict[str, Any]) -> None:
    """Send the subject / text / html triplet `tenancy/emails/<name>_*`."""
    subject = render_to_string(f"tenancy/emails/{name}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"tenancy/emails/{name}_body.txt", context),
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"tenancy/emails/{name}_body.html", context), "text/html"
    )
    message.send()


def _send_membership(name: str, membership: Membership, link: str) -> None:
    _send(name, membership.user.email, {"membership": membership, "link": link})


def send_invitation_email(membership: Membership, base_url: str) -> None:
    user = membership.user
    path = reverse(
        "accept_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    _send_membership("invitation", membership, base_url.rstrip("/") + path)


def send_pending_invitation_email(membership: Membership, base_url: str) -> None:
    """Someone with an account: where they sign in to accept or decline."""
    link = base_url.rstrip("/") + reverse("choose_organization")
    _send_membership("pending_invitation", membership, link)


def send_added_email(membership: Membership, base_url: str) -> None:
    _send_membership("added", membership, base_url.rstrip("/") + reverse("login"))


def send_sponsor_viewer_notice_email(user: User, organization: Organization) -> None:
    _send("sponsor_viewer_notice", user.email, {"user": user, "organization": organization})
