"""The weekly review (one printable page) and marking its action items done."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from reporting.forms import ActionItemForm
from reporting.models import ActionItem, Review, ReviewMetric
from reporting.presenters import metric_value
from reporting.review import (
    metric_values,
    movement,
    sla_misses_by,
    stale_review,
    week_of,
    worst_blockers,
)
from reporting.reviews import action_item_add, action_item_done
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import active_membership, by_code, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role
from trialsnest.tenancy.selectors import visible_study_site_ids

BETTER_WHEN_UP = {"received": True, "contacted": True, "handed_off": True}


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def weekly_review(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = ActionItemForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            action_item_add(membership=membership, actor=Actor.of(request), **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Action saved: it is on its owner's queue until done.")
            return redirect("weekly_review")
    now = timezone.now()
    today = timezone.localdate(now)
    org, ids = membership.organization_id, visible_study_site_ids(membership)
    this_week = week_of(today)
    values = metric_values(organization_id=org, study_site_ids=ids, today=today)
    last = Review.objects.filter(organization_id=org, week_start__lt=this_week).first()
    items = ActionItem.objects.filter(review__organization_id=org).select_related("owner__user")
    context = {
        "form": form,
        "week": this_week,
        "since": now - timedelta(days=7),
        "last": last,
        "followed_up": [_followed(i, values) for i in items.filter(review=last)] if last else [],
        "items": items.filter(review__week_start=this_week),
        "movement": movement(
            organization_id=org, study_site_ids=ids, since=now - timedelta(days=7), now=now
        ),
        "blockers": worst_blockers(organization_id=org, study_site_ids=ids),
        "sla_by": sla_misses_by(organization_id=org, study_site_ids=ids, now=now),
        "stale": stale_review(organization_id=org, study_site_ids=ids),
        "metrics": [(m.label, metric_value(m.value, values.get(m.value))) for m in ReviewMetric],
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "reporting/weekly_review.html", context, status=status)


def _followed(item: ActionItem, values: dict[str, float | None]) -> dict[str, object]:
    now = values.get(item.metric)
    moved = "—"
    if now is not None and item.baseline is not None and now != item.baseline:
        up = now > item.baseline
        better = up == BETTER_WHEN_UP.get(item.metric, False)
        moved = f"{'up' if up else 'down'}, {'better' if better else 'worse'}"
    elif now is not None and item.baseline is not None:
        moved = "no change"
    return {
        "item": item,
        "baseline": metric_value(item.metric, item.baseline),
        "now": metric_value(item.metric, now),
        "moved": moved,
    }


@member_required()
@require_POST
def action_item_mark_done(request: TenantRequest, code: str) -> HttpResponse:
    """Its owner, or a site lead or admin of the organization, marks it done."""
    membership = active_membership(request)
    items = ActionItem.objects.filter(organization_id=membership.organization_id)
    if membership.role == Role.COORDINATOR:
        items = items.filter(owner=membership)
    item = by_code(items, code)
    action_item_done(item=item, actor=Actor.of(request))
    messages.success(request, f"Done: {item.title}")
    back = request.POST.get("next", "")
    return redirect(
        back if url_has_allowed_host_and_scheme(back, {request.get_host()}) else "queue"
    )
