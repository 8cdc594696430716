"""The audit log for site leads and org admins: who did what, when, to which record (ids only,
never a PHI value), searchable and exported as CSV; the export is itself audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from trialsnest.audit import selectors
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import safe_cell
from trialsnest.tenancy.gatekeepers import active_membership, member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Who (e-mail)", required=False, max_length=254)
    action = forms.CharField(
        label="What", required=False, max_length=64, help_text='An action, or its start: "lead."'
    )
    record = forms.CharField(
        label="Record", required=False, max_length=64, help_text="A lead's or a person's id"
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The last day comes after the first.")
        return data

    def filters(self) -> selectors.Filters:
        data = self.cleaned_data
        return selectors.Filters(
            data["actor"], data["action"], data["record"], data["start"], data["end"]
        )


def _form(request: TenantRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET or None)


@not_for_sponsors
@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def audit_log(request: TenantRequest) -> HttpResponse:
    organization_id = active_membership(request).organization_id
    form = _form(request)
    filters = form.filters() if form.is_valid() else selectors.Filters()
    try:
        before = int(request.GET.get("before", "")) or None
    except ValueError:
        before = None
    rows = selectors.page(organization_id, filters, before) if not form.errors else []
    more = len(rows) > selectors.PAGE
    rows = rows[: selectors.PAGE]
    events = [(event, selectors.change_names(event)) for event in rows]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "events": events,
        "older": rows[-1].pk if more else None,
        "query": query.urlencode(),
    }
    return render(request, "audit/log.html", context)


@not_for_sponsors
@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def audit_log_csv(request: TenantRequest) -> HttpResponse | StreamingHttpResponse:
    membership = active_membership(request)
    form = _form(request)
    if not form.is_valid() and form.errors:
        return HttpResponse("Fix the filters first.", status=400, content_type="text/plain")
    filters = form.filters() if form.is_valid() else selectors.Filters()
    audit_record(
        action="audit.exported",
        actor=Actor.of(request).user,
        organization=membership.organization,
        reason=request.GET.urlencode()[:500],
        request=request,
    )
    response = StreamingHttpResponse(_lines(membership.organization_id, filters),
                                     content_type="text/csv")  # fmt: skip
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


def _lines(organization_id: int, filters: selectors.Filters) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in selectors.csv_rows(organization_id, filters):
        writer.writerow([safe_cell(cell) for cell in row])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
