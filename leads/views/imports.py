"""CSV import screens: upload, map columns and preview, start, watch progress, retry, get the
rows of each outcome."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from leads.gatekeepers import get_csv_import_for_user
from leads.intake.csv import services as csv_import
from leads.intake.csv.reader import CsvError
from leads.intake.csv.results import PAGE_ROWS, bucket_csv, rows_page
from leads.intake.csv.writer import LEADING
from leads.intake_forms import MappingForm, UploadForm
from leads.models import CsvImport, CsvImportRow
from leads.views.team import LEADS
from trialsnest.accounts.recent import recent_sign_in_required
from trialsnest.audit.services import Actor
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.selectors import visible_study_site_ids


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
    if imp.state not in csv_import.CHECKING:
        final = {name: getattr(imp, name) for name in CsvImportRow.Outcome.values}
        return render(
            request, "leads/import_detail.html", {"imp": imp, "outcomes": _outcomes(final)}
        )
    columns = imp.mapping.get("columns", {})
    initial = {name: str(index) for name, index in columns.items()}
    initial["consent"] = imp.mapping.get("consent", [])
    form = MappingForm(request.POST or None, header=imp.header, initial=initial)
    if request.method == "POST" and form.is_valid():
        csv_import.csv_import_set_mapping(
            imp=imp, columns=form.columns(), consent=form.cleaned_data["consent"],
            actor=Actor.of(request),
        )  # fmt: skip
        return redirect("import_detail", code=imp.code)
    context: dict[str, object] = {
        "imp": imp,
        "form": form,
        "previous": csv_import.previous_imports(imp),
    }
    if imp.state == CsvImport.State.ANALYZED:
        outcome = request.GET.get("outcome", "")
        outcome = outcome if outcome in CsvImportRow.Outcome.values else ""
        after = request.GET.get("after", "")
        rows = rows_page(imp, outcome=outcome, after=int(after) if after.isdigit() else 0)
        context |= {
            "rows": rows,
            "outcome": outcome,
            "outcomes": _outcomes(imp.planned),
            "next_after": rows[-1].line if len(rows) == PAGE_ROWS else None,
            "leads": sum(imp.planned.get(outcome, 0) for outcome in LEADING),
        }
    return render(request, "leads/import_detail.html", context)


def _outcomes(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(outcome, label, rows) for each bucket, in the order the pages list them."""
    return [(value, label, counts.get(value, 0)) for value, label in CsvImportRow.Outcome.choices]


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
@require_POST
def import_retry(request: TenantRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    try:
        csv_import.csv_import_retry(imp=imp, actor=Actor.of(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The import carries on.")
    return redirect("import_detail", code=imp.code)


@member_required(*LEADS)
@require_GET
def import_progress(request: TenantRequest, code: str) -> HttpResponse:
    imp = get_csv_import_for_user(request, code)
    if request.htmx and not imp.active:
        return HttpResponseClientRefresh()  # checked, done or failed: the whole page changes
    return render(request, "leads/import_detail.html#progress", {"imp": imp})


@member_required(*LEADS)
@require_GET
@recent_sign_in_required
def import_rows(request: TenantRequest, code: str, outcome: str) -> HttpResponseBase:
    """The rows of one outcome, with the line and the reason first, as CSV."""
    imp = get_csv_import_for_user(request, code)
    if outcome not in CsvImportRow.Outcome.values:
        raise Http404
    response: HttpResponseBase
    if outcome == CsvImportRow.Outcome.REJECTED and imp.rejected_file and not imp.header:
        # An import from before the rows were kept: its rejected rows were kept as a file.
        response = FileResponse(imp.rejected_file.open("rb"), content_type="text/csv")
    else:
        response = StreamingHttpResponse(
            bucket_csv(imp, outcome), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{outcome}-{imp.filename}"
    )
    add_never_cache_headers(response)  # PHI: no copy in any cache
    return response


@member_required(*LEADS)
@require_GET
@recent_sign_in_required
def import_original(request: TenantRequest, code: str) -> HttpResponseBase:
    imp = get_csv_import_for_user(request, code)
    return FileResponse(
        imp.file.open("rb"), as_attachment=True, filename=imp.filename, content_type="text/csv"
    )
