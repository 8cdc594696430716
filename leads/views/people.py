"""Duplicate people: the list of suspected pairs, the side-by-side merge, and "not the same"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.gatekeepers import get_person_for_user
from leads.intake import duplicates
from leads.models import Lead
from leads.views.team import LEADS
from trialsnest.audit.services import Actor
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest


@member_required(*LEADS)
@require_GET
def duplicate_list(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    pairs = duplicates.suspected_pairs(membership.organization_id)
    return render(request, "leads/duplicates.html", {"pairs": pairs})


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def person_merge(request: TenantRequest, code: str, other: str) -> HttpResponse:
    keep = get_person_for_user(request, code)
    dup = get_person_for_user(request, other)
    if request.method == "POST":
        values = {}
        for name in duplicates.MERGE_FIELDS:
            source = keep if request.POST.get(name, "keep") == "keep" else dup
            values[name] = getattr(source, name)
        try:
            duplicates.person_merge(keep=keep, other=dup, values=values, actor=Actor.of(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Merged into {keep.full_name}. Nothing was deleted.")
            return redirect("duplicate_list")
    rows = [
        (name, name.replace("_", " ").capitalize(), getattr(keep, name), getattr(dup, name))
        for name in duplicates.MERGE_FIELDS
    ]
    leads = {
        person.pk: list(
            Lead.objects.filter(person=person).select_related(
                "study_site__study", "study_site__site"
            )
        )
        for person in (keep, dup)
    }
    context = {"keep": keep, "dup": dup, "rows": rows, "leads": leads}
    return render(request, "leads/merge.html", context)


@member_required(*LEADS)
@require_POST
def person_not_duplicate(request: TenantRequest, code: str, other: str) -> HttpResponse:
    a = get_person_for_user(request, code)
    b = get_person_for_user(request, other)
    duplicates.duplicate_dismiss(a=a, b=b, actor=Actor.of(request))
    messages.success(request, "Marked as different people.")
    return redirect("duplicate_list")
