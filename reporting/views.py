from __future__ import annotations

import csv
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from leads.models import Source
from reporting.behind import MEASURES, leads_behind
from reporting.forms import DashboardFilters
from reporting.models import SponsorUpdate, UpdateStatus
from reporting.presenters import funnel_bars, percent, trend_value, trend_verdict
from reporting.review import last_review_at, movement
from reporting.selectors import (
    STAGES,
    Figures,
    Filters,
    cohort_rows,
    group_figures,
    open_leads_summary,
    weekly_trends,
)
from reporting.sponsor import SponsorReport, sponsor_report
from reporting.suppression import LEGEND
from trialsnest.audit.services import audit_record
from trialsnest.studies.models import Study, StudySite
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_sponsor_membership,
    member_required,
    sponsor_study_sites,
    sponsor_viewer_required,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role
from trialsnest.tenancy.selectors import visible_study_site_ids, visible_study_sites


def _filters(request: TenantRequest, today: date) -> tuple[DashboardFilters, Filters | None]:
    membership = active_membership(request)
    form = DashboardFilters(request.GET, study_sites=visible_study_sites(membership), today=today)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    chosen = data.get("study_site")
    ids = [chosen.pk] if chosen else visible_study_site_ids(membership)
    return form, Filters(data["start"], data["end"], ids, data.get("source") or "")


def _drill(form: DashboardFilters, measure: str, **overrides: str) -> str:
    """The address of the leads behind one figure, under the page's filters."""
    data = form.cleaned_data
    chosen = data.get("study_site")
    params = {
        "start": data["start"].isoformat(),
        "end": data["end"].isoformat(),
        "study_site": str(chosen.code) if chosen else "",
        "source": data.get("source") or "",
        **overrides,
        "measure": measure,
    }
    return reverse("dashboard_leads") + "?" + urlencode({k: v for k, v in params.items() if v})


def _dashboard(request: TenantRequest) -> dict[str, Any]:
    membership = active_membership(request)
    now = timezone.now()
    today = timezone.localdate(now)
    form, filters = _filters(request, today)
    if filters is None:
        return {"form": form, "invalid": True}
    ids = filters.study_site_ids
    org = membership.organization_id
    rows = cohort_rows(organization_id=org, filters=filters)
    total = group_figures(rows, "all").get("all", Figures())
    by_site = group_figures(rows, "study_site_id")
    by_source = group_figures(rows, "source")
    site_names = {ss.pk: ss for ss in form.study_sites}
    bars = funnel_bars(total)
    by_site_rows = []
    for k, f in by_site.items():
        ss = site_names.get(k)
        code = str(ss.code) if ss else ""
        cells = [(f.counts[n], _drill(form, n, study_site=code)) for n, _ in STAGES]
        by_site_rows.append((ss, f, cells))
    trends = weekly_trends(organization_id=org, filters=filters, today=today)
    return {
        "form": form,
        "filters": filters,
        "total": total,
        "bars": [(bar, _drill(form, name)) for bar, (name, _) in zip(bars, STAGES, strict=True)],
        "drill": {m: _drill(form, m) for m in ("sla_missed", "stale", "closed")},
        "chart_height": 28 * len(STAGES),
        "stages": STAGES,
        "by_site": by_site_rows,
        "by_source": [
            (
                Source(k).label if k in Source.values else k,
                f,
                _drill(form, "received", source=k),
                _drill(form, "handed_off", source=k),
            )
            for k, f in by_source.items()
        ],
        "trends": [
            (t, trend_value(t, t.this_week), trend_value(t, t.before), trend_verdict(t))
            for t in trends
        ],
        **open_leads_summary(organization_id=org, study_site_ids=ids, now=now),
        "median_first_contact": total.hours_percentile(0.5),
        "p90_first_contact": total.hours_percentile(0.9),
        "sla_share": percent(total.counts["sla_missed"], total.counts["received"]),
    }


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def dashboard(request: TenantRequest) -> HttpResponse:
    context = _dashboard(request)
    template = "reporting/dashboard.html"
    if request.htmx:
        template += "#figures"
    return render(request, template, context, status=422 if context.get("invalid") else 200)


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def dashboard_csv(request: TenantRequest) -> HttpResponse:
    context = _dashboard(request)
    if context.get("invalid"):
        return render(request, "reporting/dashboard.html", context, status=422)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dashboard.csv"'
    writer = csv.writer(response)
    names = [name for name, _ in STAGES]
    writer.writerow(["group", "value", *names, "closed", "sla_missed", "stale"])
    rows = [("all", "all", context["total"])]
    rows += [("study_site", str(ss) if ss else "", f) for ss, f, _ in context["by_site"]]
    rows += [("source", label, f) for label, f, *_ in context["by_source"]]
    for group, value, fig in rows:
        counts = [fig.counts[n] for n in (*names, "closed", "sla_missed", "stale")]
        writer.writerow([group, value, *counts])
    return response


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def dashboard_changes(request: TenantRequest) -> HttpResponse:
    """What changed since the last review, under the dashboard's filters: a fragment the page
    loads after itself (its reads scan the week's moves, which the rollups do not hold)."""
    membership = active_membership(request)
    now = timezone.now()
    form, filters = _filters(request, timezone.localdate(now))
    if filters is None:
        context = {"form": form, "invalid": True}
        return render(request, "reporting/dashboard.html#figures", context, status=422)
    org = membership.organization_id
    since = last_review_at(organization_id=org, now=now)
    changed = movement(
        organization_id=org, study_site_ids=filters.study_site_ids, since=since, now=now
    )
    context = {"changed": changed, "changed_since": since}
    return render(request, "reporting/dashboard.html#changes", context)


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def dashboard_leads(request: TenantRequest) -> HttpResponse:
    """The leads behind one figure of the dashboard, newest first, 50 to a page."""
    membership = active_membership(request)
    now = timezone.now()
    form, filters = _filters(request, timezone.localdate(now))
    measure = request.GET.get("measure", "received")
    if filters is None or measure not in MEASURES:
        context = {"form": form, "invalid": True, "unknown": measure not in MEASURES}
        return render(request, "reporting/dashboard_leads.html", context, status=422)
    leads = leads_behind(
        organization_id=membership.organization_id, filters=filters, measure=measure, now=now
    )
    rows = leads.select_related("person", "study_site__site", "study_site__study", "owner__user")
    page = Paginator(rows.order_by("-received_at", "-id"), 50).get_page(request.GET.get("page"))
    audit_record(
        action="lead.listed",
        actor=request.user,
        organization_id=membership.organization_id,
        object_type="lead",
        changes={"measure": measure, "leads": [str(lead.code) for lead in page]},
        request=request,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "label": MEASURES[measure],
        "page": page,
        "query": query.urlencode(),
        "back": reverse("dashboard") + "?" + query.urlencode(),
    }
    return render(request, "reporting/dashboard_leads.html", context)


# Sponsor portal ------------------------------------------------------------------------------


@sponsor_viewer_required
@require_GET
def sponsor_reports(request: TenantRequest) -> HttpResponse:
    sponsor = get_sponsor_membership(request)
    study_sites = sponsor_study_sites(sponsor.user).filter(study__sponsor_id=sponsor.sponsor_id)
    studies: dict[int, tuple[Study, list[str]]] = {}
    for ss in study_sites.select_related("study", "site").order_by(
        "study__brief_title", "site__name"
    ):
        studies.setdefault(ss.study_id, (ss.study, []))[1].append(ss.site.name)
    return render(request, "reporting/sponsor_reports.html", {"studies": list(studies.values())})


def _sponsor_report(
    request: TenantRequest, code: Any
) -> tuple[Study, SponsorReport, list[StudySite]]:
    sponsor = get_sponsor_membership(request)
    study_sites: list[StudySite] = list(
        sponsor_study_sites(sponsor.user)
        .filter(study__sponsor_id=sponsor.sponsor_id, study__code=_uuid(code))
        .select_related("study", "site")
        .order_by("site__name", "pk")
    )
    if not study_sites:
        raise Http404("Not found.")
    report = sponsor_report(study_sites=study_sites, today=timezone.localdate())
    return study_sites[0].study, report, study_sites


def _uuid(code: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(code))
    except ValueError:
        raise Http404("Not found.") from None


@sponsor_viewer_required
@require_GET
def sponsor_report_page(request: TenantRequest, code: Any) -> HttpResponse:
    study, report, study_sites = _sponsor_report(request, code)
    updates = SponsorUpdate.objects.filter(
        study_site__in=study_sites, status=UpdateStatus.RELEASED
    ).select_related("study_site__site")
    context = {"study": study, "report": report, "legend": LEGEND, "updates": updates}
    template = "reporting/sponsor_report.html"
    if request.htmx:
        template += "#tables"
    return render(request, template, context)


@sponsor_viewer_required
@require_GET
def sponsor_report_csv(request: TenantRequest, code: Any) -> HttpResponse:
    study, report, _ = _sponsor_report(request, code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{study.code}.csv"'
    writer = csv.writer(response)
    for table in report.tables:
        writer.writerow([table.title, *table.columns])
        for label, cells in table.rows:
            writer.writerow([label, *cells])
    writer.writerow([LEGEND])
    return response
