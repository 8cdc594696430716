"""The second factor before anything else: a signed-in user who enrolled is asked for a code,
and a member of an organization that requires it enrols, before any page, fragment or export.

Only the sign-in and sign-out pages, password resets, the public study pages, the intake API
(its own keys), static files and /healthz are reachable in between. An htmx request is sent
to the page as a whole (HX-Redirect), not given a fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django_htmx.http import HttpResponseClientRedirect

from trialsnest.tenancy.http import TenantRequest

OPEN_NAMES = frozenset(
    {
        "two_factor_verify",
        "two_factor_setup",
        "login",
        "logout",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "accept_invitation",
        "healthz",
        # A passkey as the second factor (trialsnest.accounts.passkeys): its two steps.
        "credential-authentication-begin",
        "credential-authentication-complete",
        "js-i18n-catalog",
    }
)
OPEN_PREFIXES = ("/static/", "/api/", "/studies/", "/es/studies/")


def is_open(path: str) -> bool:
    if path.startswith(OPEN_PREFIXES):
        return True
    try:
        return resolve(path).url_name in OPEN_NAMES
    except Resolver404:
        return False


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[TenantRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        # The cheap facts first: most requests need no code, and no URL resolving either.
        if user.two_factor_enabled:
            needed = None if user.is_verified() else "two_factor_verify"  # type: ignore[attr-defined]
        else:
            needed = "two_factor_setup" if request.two_factor_required else None
        if needed and not is_open(request.path_info):
            return self.send_to(needed, request)
        return self.get_response(request)

    @staticmethod
    def send_to(name: str, request: TenantRequest) -> HttpResponse:
        where = request.get_full_path() if request.method == "GET" and not request.htmx else "/"
        url = f"{reverse(name)}?{urlencode({'next': where})}"
        if request.htmx:
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
