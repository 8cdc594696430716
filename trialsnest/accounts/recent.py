"""A recent sign-in before the most sensitive actions: exporting people's data, merging two
people, creating an API key, changing someone's role. The sign-in counts for REAUTH_MINUTES;
after that the user types their password (and their code, with two-factor sign-in on) again on
/accounts/confirm/ and comes back to where they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from trialsnest.tenancy.http import TenantRequest

CONFIRMED_AT = "confirmed_at"


def confirmed_recently(request: TenantRequest) -> bool:
    session = request.session
    at = session.get(CONFIRMED_AT) or session.get("auth_at")  # auth_at: the sign-in
    return at is not None and time.time() - float(at) <= settings.REAUTH_MINUTES * 60


def mark_confirmed(request: TenantRequest) -> None:
    request.session[CONFIRMED_AT] = time.time()


def _back_to(request: TenantRequest) -> str:
    """A GET comes back to itself; a refused POST to the page it was sent from."""
    if request.method == "GET":
        return request.get_full_path()
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def recent_sign_in_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if confirmed_recently(request):
            return view(request, *args, **kwargs)
        url = f"{reverse('confirm_identity')}?{urlencode({'next': _back_to(request)})}"
        if request.htmx:
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)

    return wrapper
