"""Sign-in, sign-out and failed sign-in each leave an audit event."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from trialsnest.audit.services import audit_record


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # Starts the clock of the absolute session timeout (tenancy.middleware).
    request.session["auth_at"] = request.session["seen_at"] = time.time()
    audit_record(action="auth.login", actor=user, obj=user, request=request)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, "logout_reason", "")
        audit_record(action="auth.logout", actor=user, obj=user, reason=reason, request=request)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The attempted address is not stored: only whether it names an account, and which one.
    email = str(credentials.get("username") or credentials.get("email") or "").lower()
    user = get_user_model().objects.filter(email=email).only("id", "code").first()
    audit_record(
        action="auth.login_failed",
        object_type="user",
        object_id=str(user.code) if user else "",
        reason="" if user else "unknown account",
        request=request,
    )
