"""What the intake API accepts and answers: the pydantic schemas behind its OpenAPI document."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, ValidationInfo, field_validator

from leads.models import Status
from trialsnest.lib.emails import normalize_email
from trialsnest.lib.phones import normalize_phone

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
        if value:
            try:
                value = normalize_email(value)
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


# Every endpoint's: a bad key, a key without the endpoint's scope, the rate limit.
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 429: ErrorOut}
