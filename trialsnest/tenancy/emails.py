from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from trialsnest.tenancy.models import Membership


def send_invitation_email(membership: Membership, base_url: str) -> None:
    user = membership.user
    path = reverse(
        "accept_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"membership": membership, "link": base_url.rstrip("/") + path}
    subject = render_to_string("tenancy/emails/invitation_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("tenancy/emails/invitation_body.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("tenancy/emails/invitation_body.html", context), "text/html"
    )
    message.send()
