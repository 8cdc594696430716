"""The intake API's endpoints: send a lead, follow a lead this key sent.

POST /api/v1/leads keeps every accepted request as a submission before it becomes a lead (the
pipeline every door shares, leads/intake/submissions.py) and honours `Idempotency-Key`: per key
and Idempotency-Key, requests are serialized with an advisory lock, and the first answer is
stored in the same transaction as the lead, so retries (even concurrent ones) get that answer
back and create nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from ninja import Router
from ninja.params.functions import Header

from leads.api.auth import ApiRequest, BearerApiKey
from leads.api.errors import Rejected
from leads.api.schemas import (
    ERRORS,
    PARTNER_STATUS,
    ErrorOut,
    LeadIn,
    LeadOut,
    ReceivedOut,
    ValidationErrorOut,
)
from leads.intake.submissions import submission_process, submission_receive
from leads.models import ApiKey, IdempotencyRecord, Lead, Submission
from trialsnest.audit.services import Actor
from trialsnest.lib.db import advisory_lock
from trialsnest.studies.models import StudySite

router = Router(auth=BearerApiKey(scope=ApiKey.Scope.INTAKE))


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
        .only("id", "organization_id")
        .first()
    )
    if study_site is None:
        # The same answer whether the code is another organization's or nobody's.
        raise Rejected([("study_site", "No study site with this code is open to this key.")])
    actor = Actor(user=None, request=request)
    submission = submission_receive(
        channel=Submission.Channel.API,
        study_site=study_site,
        payload={**payload.model_dump(mode="json"), "api_key": str(api_key.code)},
        actor=actor,
    )
    try:
        processed = submission_process(submission_id=submission.pk, actor=actor, keep_invalid=False)
    except ValidationError as exc:
        raise Rejected(
            [
                ("body" if name == NON_FIELD_ERRORS else name, message)
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        ) from None
    result = processed.result if processed is not None else None
    if result is None:
        # Kept unprocessed (its error is on the submission): the retry task makes the lead.
        return 202, _received(submission)
    if not result.repeat:
        return 201, _lead_out(result.lead)
    if result.lead.api_key_id == api_key.pk:
        return 200, _lead_out(result.lead)
    # Repeat interest in a lead that came another way: not this key's to follow.
    return 202, _received(submission)


def _received(submission: Submission) -> dict[str, Any]:
    return ReceivedOut(status="received", received_at=submission.received_at).model_dump(
        mode="json"
    )


@router.post(
    "/v1/leads",
    url_name="lead_create",
    # Kept as first published, whichever module holds the endpoint: clients generate code from it.
    operation_id="leads_api_lead_create",
    summary="Send a lead",
    response={
        201: LeadOut,
        200: LeadOut,
        202: ReceivedOut,
        400: ErrorOut,
        413: ValidationErrorOut,
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
            413: {"description": "The body is larger than the server accepts."},
        }
    },
)
def lead_create(
    request: ApiRequest,
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
    api_key = request.auth
    request_hash = _request_hash(request) if idempotency_key else ""
    with transaction.atomic():
        if idempotency_key:
            advisory_lock(f"api-idempotency:{api_key.pk}:{idempotency_key}")
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


@router.get(
    "/v1/leads/{code}",
    url_name="lead_status",
    operation_id="leads_api_lead_status",
    summary="Follow a lead this key sent",
    response={200: LeadOut, 404: ErrorOut, **ERRORS},
)
def lead_status(request: ApiRequest, code: str) -> HttpResponse:
    """Where a lead this key sent stands. Any other code, valid or not, is a 404."""
    api_key = request.auth
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
