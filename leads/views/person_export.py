"""A person's own copy of everything held about them, for site leads and org admins answering a
request: machine-readable JSON and a readable page. Each export needs a recent sign-in and is
audited."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leads.gatekeepers import get_person_for_user
from leads.models import Person
from leads.person_export import person_export
from leads.views.team import LEADS
from trialsnest.accounts.recent import recent_sign_in_required
from trialsnest.audit.services import audit_record
from trialsnest.tenancy.gatekeepers import member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest


def _audited(request: TenantRequest, person: Person, kind: str) -> None:
    audit_record(
        action="person.exported",
        actor=request.user,
        organization_id=person.organization_id,
        obj=person,
        reason=kind,
        request=request,
    )


@not_for_sponsors
@member_required(*LEADS)
@require_GET
@recent_sign_in_required
def person_export_page(request: TenantRequest, code: str) -> HttpResponse:
    person = get_person_for_user(request, code)
    data = person_export(person)
    _audited(request, person, "page")
    context = {
        "person": person,
        "details": _labelled(data["person"]),
        "sections": [(s["title"], [_labelled(row) for row in s["rows"]]) for s in data["sections"]],
    }
    return render(request, "leads/person_export.html", context)


def _labelled(row: dict[str, Any]) -> list[tuple[str, Any]]:
    """The JSON's keys as labels a reader expects ("date_of_birth": "Date of birth")."""
    return [(name.replace("_", " ").capitalize(), value) for name, value in row.items()]


@not_for_sponsors
@member_required(*LEADS)
@require_GET
@recent_sign_in_required
def person_export_json(request: TenantRequest, code: str) -> HttpResponse:
    person = get_person_for_user(request, code)
    body = json.dumps(person_export(person), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    _audited(request, person, "json")
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{person.code}.json"'
    return response
