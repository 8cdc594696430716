"""Who is calling: an API key in `Authorization: Bearer tn_<prefix>_<secret>`, each
rate limited on its own. Sessions and CSRF play no part."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security.http import HttpAuthBase

from leads.intake.api_keys import api_key_authenticate, api_key_mark_used
from leads.models import ApiKey
from trialsnest.lib.ratelimit import allow


def rate_limit() -> str:
    return str(settings.API_RATE_LIMIT)


class RateLimited(Exception):
    pass


class ApiRequest(HttpRequest):
    """A request BearerApiKey let in (a type for mypy only): `auth` is the caller's key."""

    auth: ApiKey


class MissingScope(Exception):
    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class BearerApiKey(HttpAuthBase):
    """`Authorization: Bearer <key>` of a key with `scope`. Also where each key's rate limit is
    counted (one limit per key, whatever it calls)."""

    openapi_scheme = "bearer"
    openapi_bearerFormat = "tn_<prefix>_<secret>"
    openapi_description = (
        "An API key made by an org admin in Settings → API keys, sent as "
        "`Authorization: Bearer tn_<prefix>_<secret>`."
    )

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        # Our own parsing: ninja's logs the whole header (the key) on a bad scheme in DEBUG.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        api_key = api_key_authenticate(token.strip())
        if api_key is None:
            return None
        api_key_mark_used(api_key)
        if not allow(rate_limit(), "api", str(api_key.code)):
            raise RateLimited
        if self.scope not in api_key.scopes:
            raise MissingScope(self.scope)
        return api_key
