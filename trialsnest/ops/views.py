"""What load balancers and operators ask the running app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from trialsnest.ops.health import beat, outbox_backlog, report
from trialsnest.ops.jobs import recent_runs
from trialsnest.tenancy.gatekeepers import active_membership, member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers ("ok", or "degraded" with the failing dependency named:
    the app still takes interest forms without Redis); 503 when it does not."""
    alive, body = report()
    return JsonResponse(body, status=200 if alive else 503)


# Where a job's count leads: the queue tab that lists what it changed.
COUNT_LINKS = {
    "marked_stale": "?tab=stale",
    "flagged": "?tab=overdue",
    "escalated": "?tab=overdue",
}


@not_for_sponsors
@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def jobs(request: TenantRequest) -> HttpResponse:
    """Site leads: what the periodic jobs did lately (this organization's counts only), how
    long each run took and which failed; beat's last heartbeat and the outbox backlog."""
    member = active_membership(request)
    runs = [
        (run, [(name, n, COUNT_LINKS.get(name, "")) for name, n in sorted(counts.items())])
        for run, counts in recent_runs(organization_id=member.organization_id)
    ]
    context = {"runs": runs, "beat": beat(), "outbox": outbox_backlog()}
    return render(request, "ops/jobs.html", context)
