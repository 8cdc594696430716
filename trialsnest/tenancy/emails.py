from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from trialsnest.tenancy.models import Membership


def _send(name: str, membership: Membership, link: str) -> None:
    """Send the subject / text / html triplet `tenancy/emails/<name>_*`."""
    context = {"membership": membership, "link": link}
    subject = render_to_string(f"tenancy/emails/{name}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"tenancy/emails/{name}_body.txt", context),
        to=[membership.user.email],
    )
    message.attach_alternative(
        render_to_string(f"tenancy/emails/{name}_body.html", context), "text/html"
    )
    message.send()


def send_invitation_email(membership: Membership, base_url: str) -> None:
    user = membership.user
    path = reverse(
        "accept_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    _send("invitation", membership, base_url.rstrip("/") + path)


def send_added_email(membership: Membership, base_url: str) -> None:
    _send("added", membership, base_url.rstrip("/") + reverse("login"))
