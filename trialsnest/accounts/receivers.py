"""The moment of signing in, kept in the session: the absolute session timeout and the recent
sign-in of sensitive actions (trialsnest.accounts.recent) count from it."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest


@receiver(user_logged_in)
def _signed_in_at(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session["auth_at"] = time.time()
