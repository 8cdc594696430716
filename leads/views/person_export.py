"""A person's own copy of everything held about them, for site leads and org admins answering a
request: machine-readable JSON and a readable page; and erasing their details on request. Each
needs a recent sign-in and is audited."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from leads.erasure import person_erase
from leads.gatekeepers import get_person_for_user
from leads.models import Lead, Person
from leads.person_export import person_export
from leads.views.team import LEADS
from trialsnest.accounts.recent import recent_sign_in_required
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.forms import add_errors
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


class EraseForm(forms.Form):
    reason = forms.CharField(
        label="The request's reference",
        max_length=300,
        help_text="Why, for the audit log: a ticket or letter reference, no personal details.",
    )
    confirm = forms.BooleanField(
        label="I understand the name, contact details and notes are gone for good",
    )


@not_for_sponsors
@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def person_erase_view(request: TenantRequest, code: str) -> HttpResponse:
    person = get_person_for_user(request, code)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person_erase(person=person, actor=Actor.of(request), reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "The person's details are erased; their leads stay.")
            return redirect("person_export", code=person.code)
    context = {
        "person": person,
        "form": form,
        "lead_count": Lead.objects.filter(person=person).count(),
    }
    return render(request, "leads/person_erase.html", context)
