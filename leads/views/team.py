"""Site leads' Team page: workload per member, reassigning someone's leads (confirmed, and
undoable for a while), the leads to look at (expired material, study paused), StudySite
policies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import selectors, services
from leads.forms import PolicyForm
from leads.gatekeepers import get_bulk_change_for_user, get_material_for_user
from leads.models import OPEN_STATUSES, BulkChange
from leads.presenters import queue_row, site_time, undo_message
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.forms import StudySiteSpanishSummaryForm
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_membership_for_user,
    get_study_site_for_user,
    member_required,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import visible_study_sites
from trialsnest.tenancy.services import study_site_update

LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)


@member_required(*LEADS)
@require_GET
def team(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    # Someone who left still shows while they own open leads: those are the ones to hand on.
    members = (
        Membership.objects.filter(organization_id=membership.organization_id)
        .select_related("user")
        .annotate(
            open_leads=Count("owned_leads", filter=Q(owned_leads__status__in=OPEN_STATUSES)),
            due_leads=Count(
                "owned_leads",
                filter=Q(
                    owned_leads__status__in=OPEN_STATUSES,
                    owned_leads__next_action_due_at__lte=timezone.now(),
                ),
            ),
        )
        .filter(Q(is_active=True) | Q(open_leads__gt=0))
        .order_by("-is_active", "role", "user__email")
    )
    study_sites = visible_study_sites(membership).select_related("site", "study")
    context = {
        "members": members,
        "study_sites": study_sites,
        "changes": selectors.recent_bulk_changes(membership),
        "undo_until": timezone.now() - BulkChange.UNDO_PERIOD,
        "undo_days": BulkChange.UNDO_PERIOD.days,
        "flagged": _flagged_lists(membership),
        "today": timezone.localdate(),
    }
    return render(request, "leads/team.html", context)


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def team_reassign(request: TenantRequest, code: str) -> HttpResponse:
    """Reassign every open lead of one member, to another or spread by the assignment rule.

    GET (and a POST without the confirmed figures) shows how many leads go to whom and
    changes nothing; the confirmed POST writes exactly that, or shows the new figures if the
    leads moved meanwhile."""
    member = get_membership_for_user(request, code)
    data = request.POST if request.method == "POST" else request.GET
    target = get_membership_for_user(request, data["to"]) if data.get("to") else None
    context: dict[str, Any] = {"member": member, "target": target, "plan": None, "error": ""}
    expected = request.POST.get("expected", "")
    try:
        if request.method == "POST" and expected:
            change = services.leads_reassign_all(
                from_owner=member, to_owner=target, actor=Actor.of(request), expected=expected
            )
            who = f"to {target.user}" if target else "spread fairly among the team"
            messages.success(
                request,
                f"Reassigned {change.lead_count:,} open leads of {member.user} ({who}). "
                f"Undo it under Recent bulk changes for {BulkChange.UNDO_PERIOD.days} days.",
            )
            return redirect("team")
        context["plan"] = services.reassign_plan(from_owner=member, to_owner=target)
    except services.PlanChanged as changed:
        context["plan"], context["error"] = changed.plan, str(changed)
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
    return render(request, "leads/team_reassign.html", context)


@member_required(*LEADS)
@require_POST
def team_undo(request: TenantRequest, code: str) -> HttpResponse:
    change = get_bulk_change_for_user(request, code)
    try:
        undone = services.bulk_change_undo(change=change, actor=Actor.of(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("team")
    messages.success(
        request,
        undo_message(
            change, undone.restored, undone.changed_since, undone.owner_left, undone.no_access
        ),
    )
    return redirect("team")


def _flagged_lists(membership: Membership) -> list[tuple[str, str, int]]:
    counts = selectors.flagged_counts(membership)
    return [(name, label, counts[name]) for name, label in selectors.FLAGGED_LISTS]


@member_required(*LEADS)
@require_GET
def team_flagged(request: TenantRequest) -> HttpResponse:
    """Leads to look at: from an expired recruitment material, or held by a paused study;
    narrowed to one StudySite or one material, keyset-paged."""
    membership = active_membership(request)
    name = request.GET.get("list", "")
    names = dict(selectors.FLAGGED_LISTS)
    if name not in names:
        name = selectors.FLAGGED_LISTS[0][0]
    study_site = material = None
    if request.GET.get("study_site"):
        study_site = get_study_site_for_user(request, request.GET["study_site"])
    if request.GET.get("material"):
        material = get_material_for_user(request, request.GET["material"])
    after = selectors.parse_cursor(request.GET.get("after", ""))
    leads = selectors.flagged_leads(
        membership,
        name,
        study_site_id=study_site.pk if study_site else None,
        material_id=material.pk if material else None,
        after=after,
        limit=selectors.PAGE_SIZE + 1,
    )
    more = len(leads) > selectors.PAGE_SIZE
    leads = leads[: selectors.PAGE_SIZE]
    now = timezone.now()
    context = {
        "list": name,
        "title": names[name],
        "lists": _flagged_lists(membership),
        "rows": [
            (queue_row(lead, now), site_time(lead.received_at, lead.study_site.site.timezone), lead)
            for lead in leads
        ],
        "study_site": study_site,
        "material": material,
        "more_url": "",
    }
    if more:
        query = request.GET.copy()
        query["after"] = f"{leads[-1].received_at.isoformat()}_{leads[-1].pk}"
        context["more_url"] = f"?{query.urlencode()}"
    return render(request, "leads/team_flagged.html", context)


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def policy_edit(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    policy = services.policy_for(study_site)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(
                policy=policy, form_data=form.cleaned_data, actor=Actor.of(request)
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Saved the policy.")
            return redirect("team")
    return render(request, "leads/policy.html", {"form": form, "study_site": study_site})


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def study_site_summary_es(request: TenantRequest, code: str) -> HttpResponse:
    """The Spanish lay summary of a StudySite the site lead leads (one they may see)."""
    study_site = get_study_site_for_user(request, code)
    form = StudySiteSpanishSummaryForm(request.POST or None, instance=study_site)
    if request.method == "POST" and form.is_valid():
        try:
            study_site_update(
                study_site=study_site,
                actor=Actor.of(request),
                lay_summary_es=form.cleaned_data["lay_summary_es"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Saved the Spanish lay summary.")
            return redirect("team")
    return render(
        request, "leads/study_site_summary_es.html", {"form": form, "study_site": study_site}
    )
