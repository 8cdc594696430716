"""The API (django-ninja): partners post leads and read the status of the ones they sent; a CTMS
reads the leads handed off to the study team.

Each key belongs to one organization, is rate limited on its own and may do what its scopes say:
send leads as one source or referral partner and follow only those (leads/api/endpoints.py), or
read the organization's handoffs (leads/api/handoffs.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from limits import parse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from leads.api.auth import MissingScope, RateLimited, rate_limit
from leads.api.docs import LocalSwagger
from leads.api.endpoints import router
from leads.api.errors import Rejected, error_body, pydantic_errors
from leads.api.handoffs import router as handoffs

api = NinjaAPI(
    title="TrialsNest API",
    version="1",
    description=(
        "Send leads to a research site and follow their progress; read the leads handed off "
        "to the study team (for a CTMS).\n\n"
        "Authenticate with `Authorization: Bearer <API key>`; an org admin creates keys in "
        "Settings → API keys, each with its scopes: `intake` to send leads, `handoff` to read "
        "handoffs. Send an `Idempotency-Key` header (e.g. a UUID) with each new "
        "lead: a retry with the same key and body returns the first answer and creates nothing. "
        "Errors: 401 bad or revoked key, 403 a key without the scope, 404 unknown lead, "
        "413 body too large, 422 field errors "
        '(`{"detail", "errors": [{"field", "message"}]}`, 413 too), 429 rate limit (see '
        "Retry-After)."
    ),
    urls_namespace="api",
    docs=LocalSwagger(),
)


@api.exception_handler(NinjaValidationError)
def _validation_failed(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return JsonResponse(error_body(pydantic_errors(exc)), status=422)


@api.exception_handler(Rejected)
def _rejected(request: HttpRequest, exc: Rejected) -> HttpResponse:
    return JsonResponse(error_body(exc.errors), status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "Send a valid, unrevoked API key as “Authorization: Bearer <key>”."
    response = JsonResponse({"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="TrialsNest"'
    return response


@api.exception_handler(MissingScope)
def _missing_scope(request: HttpRequest, exc: MissingScope) -> HttpResponse:
    detail = f"This key may not do this: it needs the {exc.scope} scope (Settings → API keys)."
    return JsonResponse({"detail": detail}, status=403)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    limit = rate_limit()
    response = JsonResponse({"detail": f"Rate limit of {limit} per key exceeded."}, status=429)
    # The moving window frees a slot within one window at the latest.
    response["Retry-After"] = str(parse(limit).get_expiry())
    return response


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django would answer with its HTML error page; a client of this API reads JSON.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is larger than {limit:,} bytes."
    return JsonResponse(
        error_body([("body", message)], detail="The request is too large."), status=413
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


api.add_router("", router)
api.add_router("", handoffs)
