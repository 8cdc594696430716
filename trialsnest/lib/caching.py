"""Responses that may carry personal data are never stored by a browser or a proxy.

Pages for a signed-in user (the queue, a lead, search, HTMX fragments, CSV downloads), API
answers (a request with an Authorization header) and the answer to any form post (which can
show back what was typed) get `Cache-Control: no-store, private`. A view that decided its own
caching (a static asset, the API docs' files) keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

NO_STORE = "no-store, private"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_carry_personal_data(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return (
        bool(user is not None and user.is_authenticated)
        or "Authorization" in request.headers
        or request.method not in SAFE_METHODS
    )


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and may_carry_personal_data(request):
            response["Cache-Control"] = NO_STORE
        return response
