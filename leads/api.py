"""The intake API (django-ninja): partners post leads and read the status of the ones they sent.

Authentication is an API key in `Authorization: Bearer tn_<prefix>_<secret>` (leads.api_keys);
sessions and CSRF play no part. Each key belongs to one organization and one source or referral
partner, is rate limited on its own, and reads only the leads it sent.

POST /api/v1/leads keeps every accepted request as a Submission before it becomes a lead, and
honours `Idempotency-Key`: per key and Idempotency-Key, requests are serialized with an advisory
lock, and the first answer is stored in the same transaction as the lead, so retries (even
concurrent ones) get that answer back and create nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import ninja
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, json_script
from django.views.decorators.http import require_GET
from limits import parse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.params.functions import Header
from ninja.security.http import HttpAuthBase
from pydantic import ConfigDict, Field, StrictBool, ValidationInfo, field_validator

from leads.api_keys import api_key_authenticate, api_key_mark_used
from leads.intake import IntakeResult, intake
from leads.models import ApiKey, IdempotencyRecord, Lead, Status, Submission
from leads.services import Actor, normalize_phone
from trialsnest.ratelimit import allow
from trialsnest.studies.models import StudySite

logger = logging.getLogger(__name__)


def rate_limit() -> str:
    return str(settings.API_RATE_LIMIT)


# What a partner may know of a lead's progress: coarse steps, never a prescreen outcome, a
# blocker or a close reason.
PartnerStatus = Literal[
    "received", "contacting", "in_progress", "visit_scheduled", "referred_to_study_team", "closed"
]
PARTNER_STATUS: dict[str, PartnerStatus] = {
    Status.NEW: "received",
    Status.CONTACTING: "contacting",
    Status.PRESCREENING: "in_progress",
    Status.NEEDS_REVIEW: "in_progress",
    Status.RECORDS_PENDING: "in_progress",
    Status.RECORDS_READY: "in_progress",
    Status.VISIT_SCHEDULED: "visit_scheduled",
    Status.HANDED_OFF: "referred_to_study_team",
    Status.CLOSED: "closed",
}


# Errors --------------------------------------------------------------------------------------


class Rejected(Exception):
    """The request is refused with field errors (422); nothing it did is kept."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class RateLimited(Exception):
    pass


def _error_body(errors: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "detail": "The request is not valid.",
        "errors": [{"field": field, "message": message} for field, message in errors],
    }


def _pydantic_errors(exc: NinjaValidationError) -> list[tuple[str, str]]:
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "consent", "sms") -> "consent.sms"; ("header", "Idempotency-Key")
        source, rest = (loc[0], loc[1:]) if loc else ("body", [])
        if source == "body" and rest[:1] == ["payload"]:
            rest = rest[1:]
        message = str(error.get("msg", "Not valid."))
        if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
            message = str(error["ctx"]["error"])
        errors.append((".".join(rest) or source, message))
    return errors


# Authentication ------------------------------------------------------------------------------


class BearerApiKey(HttpAuthBase):
    """`Authorization: Bearer <key>`. Also where each key's rate limit is counted."""

    openapi_scheme = "bearer"
    openapi_bearerFormat = "tn_<prefix>_<secret>"
    openapi_description = (
        "An API key made by an org admin in Settings → API keys, sent as "
        "`Authorization: Bearer tn_<prefix>_<secret>`."
    )

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
        return api_key


# Docs ----------------------------------------------------------------------------------------

# Swagger UI as django-ninja ships it, served from here: the page needs no CDN and no inline
# script, so it works under the project's Content-Security-Policy (scripts from 'self' only).
DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
}
_NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"


class LocalSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        # validatorUrl: by default Swagger UI shows a badge image from validator.swagger.io.
        config = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,
        }

        def asset(name: str) -> str:
            return reverse("api_docs_asset", kwargs={"name": name})

        page = format_html(
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>{}</title>\n"
            '<link rel="icon" href="{}" type="image/svg+xml">\n'
            '<link rel="stylesheet" href="{}">\n</head>\n<body>\n{}\n'
            '<div id="swagger-ui"></div>\n'
            '<script src="{}"></script>\n<script src="{}"></script>\n</body>\n</html>\n',
            api.title,
            static("favicon.svg"),
            asset("swagger-ui.css"),
            json_script(config, "swagger-settings"),
            asset("swagger-ui-bundle.js"),
            asset("swagger-ui-init.js"),
        )
        return HttpResponse(page)


@require_GET
def api_docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in DOCS_ASSETS:
        raise Http404("Not found.")
    response = FileResponse((_NINJA_STATIC / name).open("rb"), content_type=DOCS_ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


# Schemas -------------------------------------------------------------------------------------


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ConsentIn(Schema):
    """Consent to be contacted on each channel, as the person gave it to the partner."""

    model_config = ConfigDict(extra="forbid")

    phone: StrictBool = False
    sms: StrictBool = False
    email: StrictBool = False


class LeadIn(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    study_site: uuid.UUID = Field(description="The code of one of the organization's StudySites.")
    first_name: Annotated[str, Field(min_length=1, max_length=100)]
    last_name: Annotated[str, Field(max_length=100)] = ""
    phone: Annotated[
        str, Field(max_length=40, description="Any format; US numbers need no +1.")
    ] = ""
    # Defaults are validated too: "a phone or an e-mail" and "consent needs its text version"
    # must also hold when the fields are left out.
    email: Annotated[
        str,
        Field(
            max_length=254,
            validate_default=True,
            description="A phone number or an e-mail address is needed.",
        ),
    ] = ""
    date_of_birth: date | None = None
    postal_code: Annotated[str, Field(max_length=20)] = ""
    preferred_time: Annotated[
        str, Field(max_length=100, description="e.g. “weekday evenings”.")
    ] = ""
    preferred_language: Annotated[
        str,
        Field(
            max_length=20,
            pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
            description="A language tag such as en or es-MX.",
        ),
    ] = "en"
    consent: ConsentIn = Field(default_factory=ConsentIn)
    consent_text_version: Annotated[
        str,
        Field(
            max_length=40,
            validate_default=True,
            description="The version of the consent text the person agreed to; needed with "
            "any consent.",
        ),
    ] = ""
    campaign: Annotated[str, Field(max_length=200)] = ""
    material_code: Annotated[
        str, Field(max_length=60, description="The recruitment material, e.g. FLYER-V3.")
    ] = ""
    external_reference: Annotated[
        str, Field(max_length=200, description="Your own reference; kept with the request.")
    ] = ""

    @field_validator("*")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL, lone surrogates cannot be encoded: refuse them, never 500.
        if isinstance(value, str) and any(
            unicodedata.category(char) in ("Cc", "Cs") for char in value
        ):
            raise ValueError("Remove control characters (such as line breaks or NUL).")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        try:
            return normalize_phone(value)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str, info: ValidationInfo) -> str:
        value = value.lower()
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise ValueError("Enter a valid e-mail address.") from None
        # A phone number that failed validation already has its own error.
        elif "phone" in info.data and not info.data["phone"]:
            raise ValueError("A phone number or an e-mail address is needed.")
        return value

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _date_as_written(cls, value: Any) -> Any:
        # Pydantic would also take 0 (a Unix time) or "2000-01-01T00:00": only YYYY-MM-DD is.
        if value is not None and not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
            raise ValueError("Enter the date of birth as YYYY-MM-DD.")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _date_of_birth(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= timezone.localdate():
            raise ValueError("Enter a date of birth between 1900 and today.")
        return value

    @field_validator("consent_text_version")
    @classmethod
    def _consent_text_version(cls, value: str, info: ValidationInfo) -> str:
        consent = info.data.get("consent")
        if not value and consent is not None and (consent.phone or consent.sms or consent.email):
            raise ValueError("Say which version of the consent text the person agreed to.")
        return value


class LeadOut(Schema):
    """All a partner sees of a lead: no personal data, no notes, no prescreen outcome."""

    code: uuid.UUID
    status: PartnerStatus
    received_at: datetime
    status_changed_at: datetime


class ReceivedOut(Schema):
    """Kept, but not (or not yet) a lead this key can follow."""

    status: Literal["received"]
    received_at: datetime


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    field: str = Field(description="The body field (dotted for nested ones) or the header.")
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut]


ERRORS: dict[int, Any] = {401: ErrorOut, 429: ErrorOut}


# The API -------------------------------------------------------------------------------------

api = NinjaAPI(
    title="TrialsNest intake API",
    version="1",
    description=(
        "Send leads to a research site and follow their progress.\n\n"
        "Authenticate with `Authorization: Bearer <API key>`; an org admin creates keys in "
        "Settings → API keys. Send an `Idempotency-Key` header (e.g. a UUID) with each new "
        "lead: a retry with the same key and body returns the first answer and creates nothing. "
        "Errors: 401 bad or revoked key, 404 unknown lead, 422 field errors "
        '(`{"detail", "errors": [{"field", "message"}]}`), 429 rate limit (see Retry-After).'
    ),
    urls_namespace="api",
    auth=BearerApiKey(),
    docs=LocalSwagger(),
)


@api.exception_handler(NinjaValidationError)
def _validation_failed(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return JsonResponse(_error_body(_pydantic_errors(exc)), status=422)


@api.exception_handler(Rejected)
def _rejected(request: HttpRequest, exc: Rejected) -> HttpResponse:
    return JsonResponse(_error_body(exc.errors), status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "Send a valid, unrevoked API key as “Authorization: Bearer <key>”."
    response = JsonResponse({"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="TrialsNest"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    limit = rate_limit()
    response = JsonResponse({"detail": f"Rate limit of {limit} per key exceeded."}, status=429)
    # The moving window frees a slot within one window at the latest.
    response["Retry-After"] = str(parse(limit).get_expiry())
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def _lead_out(lead: Lead) -> dict[str, Any]:
    out = LeadOut(
        code=lead.code,
        status=PARTNER_STATUS[lead.status],
        received_at=lead.received_at,
        status_changed_at=lead.status_changed_at,
    )
    return out.model_dump(mode="json")


def _request_hash(request: HttpRequest) -> str:
    """The body as a JSON document: key order and whitespace do not make it a different body."""
    canonical = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _response(status: int, body: dict[str, Any], *, replayed: bool = False) -> JsonResponse:
    response = JsonResponse(body, status=status)
    if status == 201:
        response["Location"] = reverse("api:lead_status", kwargs={"code": body["code"]})
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _receive(request: HttpRequest, api_key: ApiKey, payload: LeadIn) -> tuple[int, dict[str, Any]]:
    """Keep the submission, then make (or find) the lead. Call inside a transaction."""
    study_site = (
        StudySite.objects.filter(organization_id=api_key.organization_id, code=payload.study_site)
        .select_related("organization", "site")
        .first()
    )
    if study_site is None:
        # The same answer whether the code is another organization's or nobody's.
        raise Rejected([("study_site", "No study site with this code is open to this key.")])
    submission = Submission.objects.create(
        organization_id=api_key.organization_id,
        study_site=study_site,
        channel=Submission.Channel.API,
        payload={**payload.model_dump(mode="json"), "api_key": str(api_key.code)},
    )
    try:
        with transaction.atomic():
            result = _intake(submission, api_key, study_site, request)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise Rejected(
                [
                    ("body" if name == NON_FIELD_ERRORS else name, message)
                    for name, messages in exc.message_dict.items()
                    for message in messages
                ]
            ) from None
        return _kept_unprocessed(submission, " ".join(exc.messages))
    except Exception as exc:
        # Kept for a person to process; the log carries no patient data, the row does.
        logger.error("API submission %s not processed: %s", submission.pk, type(exc).__name__)
        return _kept_unprocessed(submission, f"{type(exc).__name__}: {exc}")
    submission.processed_at, submission.lead = timezone.now(), result.lead
    submission.save(update_fields=["processed_at", "lead"])
    if not result.repeat:
        return 201, _lead_out(result.lead)
    if result.lead.api_key_id == api_key.pk:
        return 200, _lead_out(result.lead)
    # Repeat interest in a lead that came another way: not this key's to follow.
    return 202, _received(submission)


PERSON_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "date_of_birth",
    "postal_code",
    "preferred_time",
    "preferred_language",
)


def _intake(
    submission: Submission, api_key: ApiKey, study_site: StudySite, request: HttpRequest | None
) -> IntakeResult:
    """The lead (or repeat interest) for a kept API submission, from its stored payload."""
    payload = submission.payload
    return intake(
        study_site=study_site,
        source=api_key.source,
        actor=Actor(user=None, request=request),
        received_at=submission.received_at,
        person={name: payload.get(name) or "" for name in PERSON_FIELDS}
        | {"date_of_birth": payload.get("date_of_birth") or None},
        consent=dict(payload.get("consent") or {}),
        consent_text_version=str(payload.get("consent_text_version") or ""),
        attribution={
            "referral_partner": api_key.referral_partner,
            "campaign": str(payload.get("campaign") or ""),
        },
        material_code=str(payload.get("material_code") or ""),
        api_key=api_key,
    )


def submission_retry(submission_id: int) -> Lead | None:
    """Another try for an API submission kept unprocessed. Safe to run twice."""
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("study_site__organization", "study_site__site")
            .filter(pk=submission_id, channel=Submission.Channel.API, processed_at__isnull=True)
            .first()
        )
        if submission is None:
            return None
        api_key = ApiKey.objects.filter(
            code=submission.payload.get("api_key"), revoked_at__isnull=True
        ).first()
        if api_key is None:
            return None
        try:
            with transaction.atomic():
                result = _intake(submission, api_key, submission.study_site, None)
        except Exception as exc:
            logger.warning("API submission %s still not processed (%s)", submission_id,
                           type(exc).__name__)  # fmt: skip
            submission.error = f"{type(exc).__name__}: {exc}"[:2000]
            submission.save(update_fields=["error"])
            return None
        submission.processed_at, submission.lead = timezone.now(), result.lead
        submission.error = ""
        submission.save(update_fields=["processed_at", "lead", "error"])
        return result.lead


def _kept_unprocessed(submission: Submission, error: str) -> tuple[int, dict[str, Any]]:
    submission.error = error[:2000]
    submission.save(update_fields=["error"])
    return 202, _received(submission)


def _received(submission: Submission) -> dict[str, Any]:
    return ReceivedOut(status="received", received_at=submission.received_at).model_dump(
        mode="json"
    )


@api.post(
    "/v1/leads",
    url_name="lead_create",
    summary="Send a lead",
    response={
        201: LeadOut,
        200: LeadOut,
        202: ReceivedOut,
        400: ErrorOut,
        422: ValidationErrorOut,
        **ERRORS,
    },
    openapi_extra={
        "responses": {
            201: {"description": "A new lead."},
            200: {"description": "Repeat interest in an open lead this key sent earlier."},
            202: {
                "description": "Received and kept, but not a lead this key can follow (e.g. the "
                "person already had an open lead for this study from another source)."
            },
        }
    },
)
def lead_create(
    request: HttpRequest,
    payload: LeadIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[!-~]+$",
        description="Any unique text (e.g. a UUID) per new lead; a retry sends the same one.",
    ),
) -> HttpResponse:
    """One person's interest in one of the organization's StudySites.

    With an `Idempotency-Key`, a retry with the same body gets the first answer again (marked
    `Idempotent-Replayed: true`) and creates nothing.
    """
    api_key: ApiKey = request.auth  # type: ignore[attr-defined]
    request_hash = _request_hash(request) if idempotency_key else ""
    with transaction.atomic():
        if idempotency_key:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    [f"api-idempotency:{api_key.pk}:{idempotency_key}"],
                )
            record = IdempotencyRecord.objects.filter(api_key=api_key, key=idempotency_key).first()
            if record is not None:
                if record.request_hash != request_hash:
                    raise Rejected(
                        [("Idempotency-Key", "This key was already used with a different body.")]
                    )
                return _response(record.status_code, record.body, replayed=True)
        status, body = _receive(request, api_key, payload)
        if idempotency_key:
            IdempotencyRecord.objects.create(
                api_key=api_key,
                key=idempotency_key,
                request_hash=request_hash,
                status_code=status,
                body=body,
            )
    return _response(status, body)


@api.get(
    "/v1/leads/{code}",
    url_name="lead_status",
    summary="Follow a lead this key sent",
    response={200: LeadOut, 404: ErrorOut, **ERRORS},
)
def lead_status(request: HttpRequest, code: str) -> HttpResponse:
    """Where a lead this key sent stands. Any other code, valid or not, is a 404."""
    api_key: ApiKey = request.auth  # type: ignore[attr-defined]
    try:
        parsed = uuid.UUID(code)
    except ValueError:
        raise Http404("Not found.") from None
    # Only what this key sent: a referral partner's label is free text an admin typed, so
    # matching on it could show one partner another's leads.
    lead = (
        Lead.objects.filter(api_key=api_key, code=parsed)
        .only("code", "status", "received_at", "status_changed_at")
        .first()
    )
    if lead is None:
        raise Http404("Not found.")
    return JsonResponse(_lead_out(lead))
