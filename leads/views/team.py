"""Site leads' Team page: workload per member, reassigning someone's leads, StudySite policies."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import services
from leads.forms import PolicyForm
from leads.models import OPEN_STATUSES
from trialsnest.audit.services import Actor
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_membership_for_user,
    get_study_site_for_user,
    member_required,
)
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import visible_study_sites

LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)


@member_required(*LEADS)
@require_GET
def team(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    members = (
        Membership.objects.filter(organization_id=membership.organization_id, is_active=True)
        .select_related("user")
        .annotate(open_leads=Count("owned_leads", filter=Q(owned_leads__status__in=OPEN_STATUSES)))
        .order_by("role", "user__email")
    )
    study_sites = visible_study_sites(membership).select_related("site", "study")
    context = {"members": members, "study_sites": study_sites}
    return render(request, "leads/team.html", context)


@member_required(*LEADS)
@require_POST
def team_reassign(request: TenantRequest, code: str) -> HttpResponse:
    """Hand every open lead of one member to another, or spread them by the assignment rule."""
    member = get_membership_for_user(request, code)
    target_code = request.POST.get("to", "")
    target = None
    if target_code:
        target = get_membership_for_user(request, target_code)
    try:
        moved = services.leads_reassign_all(
            from_owner=member, to_owner=target, actor=Actor.of(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Reassigned {moved} open leads of {member.user}.")
    return redirect("team")


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def policy_edit(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    policy = services.policy_for(study_site)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        services.policy_update(policy=policy, form_data=form.cleaned_data, actor=Actor.of(request))
        messages.success(request, "Saved the policy.")
        return redirect("team")
    return render(request, "leads/policy.html", {"form": form, "study_site": study_site})
