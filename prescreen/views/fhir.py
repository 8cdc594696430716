"""A questionnaire version out as FHIR R4 JSON, and a FHIR file in as a new draft."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from prescreen import selectors
from prescreen.fhir import version_to_fhir
from prescreen.forms import FhirImportForm
from prescreen.gatekeepers import SITE_LEADS, get_version_for_user, prescreen_member_required
from prescreen.services.exchange import version_import_fhir
from trialsnest.audit.services import Actor
from trialsnest.tenancy.gatekeepers import get_study_site_for_user
from trialsnest.tenancy.http import TenantRequest


@prescreen_member_required(*SITE_LEADS)
@require_GET
def export(request: TenantRequest, code: str) -> HttpResponse:
    version = get_version_for_user(request, code)
    data = version_to_fhir(version, selectors.questions_of(version))
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/fhir+json")
    name = f"prescreen-{version.questionnaire.study_site.code}-v{version.number}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@prescreen_member_required(*SITE_LEADS)
@require_POST
def import_(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    form = FhirImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a FHIR Questionnaire file (JSON) to import.")
    else:
        upload = form.cleaned_data["file"]
        try:
            version_import_fhir(
                study_site=study_site,
                raw=upload.read(),
                filename=str(upload.name)[:100],
                actor=Actor.of(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Imported as a draft: review it, then publish.")
    return redirect("prescreen_builder", code=study_site.code)
