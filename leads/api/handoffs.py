"""GET /api/v1/handoffs/: the leads handed off to the study team, for the site's CTMS.

A key with the handoff scope reads its organization's handed-off leads in the order they were
handed off, a page at a time, as a FHIR R4 searchset Bundle (reporting/handoff.py builds each
lead's Patient and ResearchSubject) or as CSV rows with the same facts. Each page ends with a
cursor to ask for what came after it: keep it and ask again later; an empty page means nothing
new yet. A handoff is listed once it is SETTLE old, so that one committed a moment after a
later one can never fall behind a cursor already handed out.

These are patient data: every lead read is in the audit log as viewed, through the key.
"""

from __future__ import annotations

import base64
import binascii
import csv
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from ninja import Router
from ninja.params.functions import Query

from leads.api.auth import ApiRequest, BearerApiKey
from leads.api.errors import Rejected
from leads.api.schemas import ERRORS, ValidationErrorOut
from leads.models import ApiKey, Lead
from reporting.handoff import CSV_HEADER, handoff_csv_row, handoff_entries
from trialsnest.audit.services import audit_record_many
from trialsnest.lib.text import safe_cell

SETTLE = timedelta(seconds=30)
FHIR_JSON = "application/fhir+json"
PARAMETERS = {"cursor", "limit", "format"}
router = Router(auth=BearerApiKey(scope=ApiKey.Scope.HANDOFF))


def cursor_encode(handed_off_at: datetime, code: uuid.UUID) -> str:
    raw = f"{handed_off_at.isoformat()}|{code}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, code = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError(at)
        return moment, uuid.UUID(code)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Rejected(
            [("cursor", "Send back a cursor exactly as a page of this API gave it.")]
        ) from None


def handoffs_after(api_key: ApiKey, cursor: str | None, limit: int) -> list[Lead]:
    leads = Lead.objects.filter(
        organization_id=api_key.organization_id,
        handed_off_at__isnull=False,
        handed_off_at__lte=timezone.now() - SETTLE,
    )
    if cursor:
        at, code = cursor_decode(cursor)
        leads = leads.filter(Q(handed_off_at__gt=at) | Q(handed_off_at=at, code__gt=code))
    leads = leads.select_related("person", "study_site__study", "study_site__site")
    return list(leads.order_by("handed_off_at", "code")[:limit])


@router.get(
    "/v1/handoffs/",
    url_name="handoff_list",
    operation_id="leads_api_handoff_list",
    summary="Leads handed off to the study team",
    response={200: Any, 422: ValidationErrorOut, **ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "A FHIR R4 searchset Bundle (each lead's ResearchSubject, with its "
                "Patient included) whose `next` link holds the cursor; or, with `format=csv`, "
                "one row per lead with the cursor in the `Link` header (rel=next).",
                "content": {FHIR_JSON: {}, "text/csv": {}},
            },
            403: {"description": "The key does not have the handoff scope."},
        }
    },
)
def handoff_list(
    request: ApiRequest,
    cursor: str | None = Query(
        None, max_length=200, description="The cursor of the page before (from its next link)."
    ),
    limit: int = Query(100, ge=1, le=500, description="Leads per page."),
    format: Literal["fhir", "csv"] = Query("fhir"),
) -> HttpResponse:
    """The organization's handed-off leads, oldest handoff first, after `cursor`.

    Keep the `next` link of each page and call it later: it answers the handoffs made since.
    Handoffs appear 30 seconds after they happen.
    """
    api_key = request.auth
    # A misspelt cursor would quietly start again from the first handoff: refuse it instead.
    unknown = sorted(set(request.GET) - PARAMETERS)
    if unknown:
        message = "Unknown parameter: use cursor, limit and format only."
        raise Rejected([(name or "query", message) for name in unknown])
    leads = handoffs_after(api_key, cursor, limit)
    after = cursor_encode(leads[-1].handed_off_at, leads[-1].code) if leads else cursor  # type: ignore[arg-type]
    query = {"limit": limit, "format": format, **({"cursor": after} if after else {})}
    next_url = request.build_absolute_uri(reverse("api:handoff_list")) + "?" + urlencode(query)
    audit_record_many(
        action="lead.viewed",
        actor_id=None,
        organization_id=api_key.organization_id,
        object_type="lead",
        object_ids=[str(lead.code) for lead in leads],
        changes={"via": "handoff API", "api_key": api_key.prefix, "format": format},
    )
    if format == "csv":
        return _csv(leads, next_url)
    return _bundle(request.build_absolute_uri(), next_url, leads)


def _bundle(self_url: str, next_url: str, leads: list[Lead]) -> HttpResponse:
    entries: list[dict[str, Any]] = []
    for lead in leads:
        patient, subject = handoff_entries(lead)
        entries += [{**subject, "search": {"mode": "match"}}]
        entries += [{**patient, "search": {"mode": "include"}}]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": self_url}, {"relation": "next", "url": next_url}],
    }
    if entries:  # FHIR has no empty lists
        bundle["entry"] = entries
    Bundle.model_validate(bundle)
    return JsonResponse(bundle, content_type=FHIR_JSON)


def _csv(leads: list[Lead], next_url: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Link"] = f'<{next_url}>; rel="next"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for lead in leads:
        writer.writerow([safe_cell(value) for value in handoff_csv_row(lead)])
    return response
