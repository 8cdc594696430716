"""CSV import screens: upload, map columns and preview, start, watch progress, get results."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.forms import MappingForm, UploadForm
from leads.gatekeepers import get_csv_import_for_user
from leads.intake.csv import services as csv_import
from leads.intake.csv.matching import analyze, summary
from leads.intake.csv.reader import CsvError, decode, read_rows
from leads.models import CsvImport
from leads.views.team import LEADS
from trialsnest.audit.services import Actor
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.selectors import visible_study_site_ids

PREVIEW_ROWS = 200


@member_required(*LEADS)
@require_GET
def import_list(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    imports = CsvImport.objects.filter(organization_id=membership.organization_id)
    ids = visible_study_site_ids(membership)
    if ids is not None:
        imports = imports.filter(study_site_id__in=ids)
    imports = imports.select_related("study_site__site", "study_site__study", "uploaded_by")
    return render(request, "leads/imports.html", {"imports": imports[:100]})


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def import_new(request: TenantRequest) -> HttpResponse:
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
                actor=Actor.of(request),
            )
        except CsvError as error:
            form.add_error("file", str(error))
        else:
            return redirect("import_detail", code=imp.code)
    return render(request, "leads/import_new.html", {"form": form})


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def import_detail(request: TenantRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    if imp.state != CsvImport.State.UPLOADED:
        return render(request, "leads/import_detail.html", {"imp": imp})
    with imp.file.open("rb") as handle:
        text = decode(handle.read())
    header, _ = read_rows(text)
    columns = imp.mapping.get("columns", {})
    initial = {name: str(index) for name, index in columns.items()}
    initial["consent"] = imp.mapping.get("consent", [])
    form = MappingForm(request.POST or None, header=header, initial=initial)
    if request.method == "POST" and form.is_valid():
        csv_import.csv_import_set_mapping(
            imp=imp, columns=form.columns(), consent=form.cleaned_data["consent"],
            actor=Actor.of(request),
        )  # fmt: skip
        return redirect("import_detail", code=imp.code)
    error = ""
    try:
        rows = analyze(text, {k: int(v) for k, v in columns.items()}, imp.study_site)
    except CsvError as exc:
        rows, error = [], str(exc)
    preview = rows[:PREVIEW_ROWS]
    rejected = [r for r in rows[PREVIEW_ROWS:] if r.action == "reject"][:500]
    context = {
        "imp": imp,
        "form": form,
        "header": header,
        "counts": summary(rows),
        "preview": preview,
        "more_rejected": rejected,
        "total": len(rows),
        "previous": csv_import.previous_imports(imp),
        "error": error,
    }
    return render(request, "leads/import_detail.html", context)


@member_required(*LEADS)
@require_POST
def import_start(request: TenantRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    try:
        csv_import.csv_import_start(
            imp=imp,
            attested=request.POST.get("attested") == "on",
            again=request.POST.get("again") == "on",
            actor=Actor.of(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The import has started.")
    return redirect("import_detail", code=imp.code)


@member_required(*LEADS)
@require_GET
def import_progress(request: TenantRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    return render(request, "leads/import_detail.html#progress", {"imp": imp})


@member_required(*LEADS)
@require_GET
def import_rejected(request: TenantRequest, code: str) -> HttpResponseBase:
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
def import_original(request: TenantRequest, code: str) -> HttpResponseBase:
    imp = get_csv_import_for_user(request, code)
    return FileResponse(
        imp.file.open("rb"), as_attachment=True, filename=imp.filename, content_type="text/csv"
    )
