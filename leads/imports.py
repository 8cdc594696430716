"""CSV import screens: upload, map columns and preview, start, watch progress, get results."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import csv_import
from leads.models import Channel, CsvImport, Source
from leads.services import Actor
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_csv_import_for_user,
    member_required,
)
from trialsnest.tenancy.models import Membership, Role

LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)
PREVIEW_ROWS = 200


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma or semicolon separated.")
    study_site: forms.ModelChoiceField[StudySite] = forms.ModelChoiceField(
        queryset=StudySite.objects.none(), label="Study at site"
    )
    source = forms.ChoiceField(choices=Source.choices, initial=Source.VENDOR_LIST)
    campaign = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["study_site"]
        field.queryset = membership.visible_study_sites().select_related("site", "study")


class MappingForm(forms.Form):
    consent = forms.MultipleChoiceField(
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="The list's consent covers",
    )

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— not in this file —")] + [
            (str(i), name or f"column {i + 1}") for i, name in enumerate(header)
        ]
        for name, (label, _) in csv_import.FIELDS.items():
            self.fields[name] = forms.ChoiceField(choices=choices, required=False, label=label)
        self.order_fields([*csv_import.FIELDS, "consent"])

    def columns(self) -> dict[str, int]:
        return {
            name: int(value)
            for name in csv_import.FIELDS
            if (value := self.cleaned_data.get(name)) not in (None, "")
        }


def _actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor(user=user, request=request)


@member_required(*LEADS)
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    membership = active_membership(request)
    imports = CsvImport.objects.filter(organization_id=membership.organization_id)
    ids = membership.visible_study_site_ids()
    if ids is not None:
        imports = imports.filter(study_site_id__in=ids)
    imports = imports.select_related("study_site__site", "study_site__study", "uploaded_by")
    return render(request, "leads/imports.html", {"imports": imports[:100]})


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    membership = active_membership(request)
    form = UploadForm(request.POST or None, request.FILES or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imp = csv_import.csv_import_upload(
                data=upload.read(),
                filename=upload.name,
                study_site=form.cleaned_data["study_site"],
                source=form.cleaned_data["source"],
                campaign=form.cleaned_data["campaign"],
                actor=_actor(request),
            )
        except csv_import.CsvError as error:
            form.add_error("file", str(error))
        else:
            return redirect("import_detail", code=imp.code)
    return render(request, "leads/import_new.html", {"form": form})


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    if imp.state != CsvImport.State.UPLOADED:
        return render(request, "leads/import_detail.html", {"imp": imp})
    with imp.file.open("rb") as handle:
        text = csv_import.decode(handle.read())
    header, _ = csv_import.read_rows(text)
    columns = imp.mapping.get("columns", {})
    initial = {name: str(index) for name, index in columns.items()}
    initial["consent"] = imp.mapping.get("consent", [])
    form = MappingForm(request.POST or None, header=header, initial=initial)
    if request.method == "POST" and form.is_valid():
        csv_import.csv_import_set_mapping(
            imp=imp, columns=form.columns(), consent=form.cleaned_data["consent"],
            actor=_actor(request),
        )  # fmt: skip
        return redirect("import_detail", code=imp.code)
    error = ""
    try:
        rows = csv_import.analyze(text, {k: int(v) for k, v in columns.items()}, imp.study_site)
    except csv_import.CsvError as exc:
        rows, error = [], str(exc)
    preview = rows[:PREVIEW_ROWS]
    rejected = [r for r in rows[PREVIEW_ROWS:] if r.action == "reject"][:500]
    context = {
        "imp": imp,
        "form": form,
        "header": header,
        "counts": csv_import.summary(rows),
        "preview": preview,
        "more_rejected": rejected,
        "total": len(rows),
        "previous": csv_import.previous_imports(imp),
        "error": error,
    }
    return render(request, "leads/import_detail.html", context)


@member_required(*LEADS)
@require_POST
def import_start(request: HttpRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    try:
        csv_import.csv_import_start(
            imp=imp,
            attested=request.POST.get("attested") == "on",
            again=request.POST.get("again") == "on",
            actor=_actor(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The import has started.")
    return redirect("import_detail", code=imp.code)


@member_required(*LEADS)
@require_GET
def import_progress(request: HttpRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    return render(request, "leads/import_detail.html#progress", {"imp": imp})


@member_required(*LEADS)
@require_GET
def import_rejected(request: HttpRequest, code: str) -> HttpResponseBase:
    imp = get_csv_import_for_user(request, code)
    if not imp.rejected_file:
        return HttpResponse("No rejected rows.", content_type="text/plain", status=404)
    return FileResponse(
        imp.rejected_file.open("rb"),
        as_attachment=True,
        filename=f"rejected-{imp.filename}",
        content_type="text/csv",
    )


@member_required(*LEADS)
@require_GET
def import_original(request: HttpRequest, code: str) -> HttpResponseBase:
    imp = get_csv_import_for_user(request, code)
    return FileResponse(
        imp.file.open("rb"), as_attachment=True, filename=imp.filename, content_type="text/csv"
    )
