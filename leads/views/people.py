"""Duplicate people: what to review, the side-by-side merge with its confirmation, undoing a
merge, "different people", and moving a lead that came from someone else to a record of its own.

Every change asks first: a page says what will happen, and only a POST with `confirm` does it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.gatekeepers import (
    get_person_for_user,
    get_person_merge_for_user,
    get_suspicion_for_user,
)
from leads.intake import duplicates, merges
from leads.intake.separate import lead_separate
from leads.models import Lead, Person, PersonMerge
from leads.views.team import LEADS
from trialsnest.accounts.recent import recent_sign_in_required
from trialsnest.audit.services import Actor
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest

RECENT_MERGES = 20


LABELS = {
    "email": "E-mail",
    "consent_phone": "Consent to phone calls",
    "consent_sms": "Consent to text messages",
    "consent_email": "Consent to e-mail",
}


def _label(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


@member_required(*LEADS)
@require_GET
def duplicate_list(request: TenantRequest) -> HttpResponse:
    organization_id = active_membership(request).organization_id
    now = timezone.now()
    recent = (
        PersonMerge.objects.filter(organization_id=organization_id, undone_at__isnull=True)
        .select_related("kept", "merged", "merged_by")
        .order_by("-merged_at")[:RECENT_MERGES]
    )
    context = {
        "reviews": duplicates.open_suspicions(organization_id),
        "pairs": duplicates.suspected_pairs(organization_id),
        "merges": [(merge, merge.can_undo(now)) for merge in recent],
        "undo_days": settings.MERGE_UNDO_DAYS,
    }
    return render(request, "leads/duplicates.html", context)


def _chosen_values(data: QueryDict, keep: Person, other: Person) -> dict[str, Any]:
    """The value of each field from the record the user picked ("keep" unless "other")."""
    return {
        name: getattr(other if data.get(name) == "other" else keep, name)
        for name in merges.MERGE_FIELDS
    }


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def person_merge(request: TenantRequest, code: str, other: str) -> HttpResponse:
    """GET: pick the values to keep. POST: the summary of what the merge will do. POST with
    `confirm`: the merge, if nothing changed since the summary."""
    keep = get_person_for_user(request, code)
    dup = get_person_for_user(request, other)
    if request.method == "POST":
        values = _chosen_values(request.POST, keep, dup)
        try:
            if request.POST.get("confirm"):
                merge = merges.person_merge(
                    keep=keep,
                    other=dup,
                    values=values,
                    actor=Actor.of(request),
                    seen=request.POST.get("seen", "") or "missing",
                )
            else:
                return _merge_confirmation(request, keep, dup, values)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            if error.messages == [merges.CHANGED_SINCE]:
                return _merge_confirmation(request, keep, dup, values)
        else:
            until = date_format(timezone.localtime(merge.undo_until), "j F Y")
            messages.success(
                request,
                f"{dup.full_name}'s record was merged into {keep.full_name}'s. Nothing was "
                f"deleted; it can be undone on this page until {until}.",
            )
            return redirect("duplicate_list")
    rows = [
        (name, _label(name), getattr(keep, name), getattr(dup, name))
        for name in merges.MERGE_FIELDS
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


def _merge_confirmation(
    request: TenantRequest, keep: Person, dup: Person, values: dict[str, Any]
) -> HttpResponse:
    plan = merges.merge_plan(keep=keep, other=dup, values=values)
    context = {
        "plan": plan,
        "keep": keep,
        "dup": dup,
        "changes": [(_label(name), old, new) for name, (old, new) in plan.changes.items()],
        "choices": [(name, request.POST.get(name, "keep")) for name in merges.MERGE_FIELDS],
        "undo_days": settings.MERGE_UNDO_DAYS,
    }
    return render(request, "leads/merge_confirm.html", context)


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
@recent_sign_in_required
def person_merge_undo(request: TenantRequest, code: str) -> HttpResponse:
    """GET: what undoing the merge puts back. POST with `confirm`: the undo."""
    merge = get_person_merge_for_user(request, code)
    refusal = merges.undo_refusal(merge, timezone.now())
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            left = merges.person_merge_undo(merge=merge, actor=Actor.of(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            message = (
                f"The merge was undone: {merge.merged.full_name} and {merge.kept.full_name} "
                "have their own records and leads again."
            )
            if left:
                names = ", ".join(_label(name).lower() for name in left)
                message += f" Left as they are now (changed since the merge): {names}."
            messages.success(request, message)
        return redirect("duplicate_list")
    restores = [(_label(name), entry["new"], entry["old"]) for name, entry in merge.changed.items()]
    context = {
        "merge": merge,
        "refusal": refusal,
        "restores": restores,
        "undo_days": settings.MERGE_UNDO_DAYS,
    }
    return render(request, "leads/merge_undo.html", context)


@member_required(*LEADS)
@require_POST
def person_not_duplicate(request: TenantRequest, code: str, other: str) -> HttpResponse:
    a = get_person_for_user(request, code)
    b = get_person_for_user(request, other)
    duplicates.duplicate_dismiss(a=a, b=b, actor=Actor.of(request))
    messages.success(request, "Marked as different people.")
    return redirect("duplicate_list")


@member_required(*LEADS)
@require_POST
def suspicion_dismiss(request: TenantRequest, code: str) -> HttpResponse:
    """For a pair: "different people"; for a lead on a person: "it is this person"."""
    suspicion = get_suspicion_for_user(request, code)
    try:
        duplicates.suspicion_dismiss(suspicion=suspicion, actor=Actor.of(request))
    except ValidationError as error:
        message, ok = " ".join(error.messages), False
    else:
        ok = True
        message = (
            "Marked as different people: they keep their own records."
            if suspicion.is_pair
            else f"Kept on {suspicion.person.full_name}'s record: reviewed as the same person."
        )
    if request.htmx:
        context = {"suspicion": suspicion, "message": message, "ok": ok}
        return render(request, "leads/duplicates.html#reviewed", context)
    (messages.success if ok else messages.error)(request, message)
    return redirect("duplicate_list")


@member_required(*LEADS)
@require_http_methods(["GET", "POST"])
def suspicion_separate(request: TenantRequest, code: str) -> HttpResponse:
    """GET: what moving the lead to a new person does. POST with `confirm`: the move."""
    suspicion = get_suspicion_for_user(request, code)
    if suspicion.resolved_at is not None:
        messages.error(request, "Someone has already reviewed this.")
        return redirect("duplicate_list")
    if not duplicates.separable(suspicion):
        messages.error(
            request,
            "Only a lead that came from this submission can be moved to a new record; this one "
            "was repeat interest logged on the person's own lead.",
        )
        return redirect("duplicate_list")
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            person = lead_separate(suspicion=suspicion, actor=Actor.of(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"The lead moved to a new record for {person.full_name}. Check the consent on "
                f"{suspicion.person.full_name}'s record with them.",
            )
        return redirect("duplicate_list")
    assert suspicion.submission is not None
    payload = suspicion.submission.payload
    rows = [
        (_label(name), getattr(suspicion.person, name), payload.get(name) or "")
        for name in duplicates.SUBMITTED_FIELDS
    ]
    context = {
        "suspicion": suspicion,
        "rows": rows,
        "submitted_name": f"{payload.get('first_name', '')} {payload.get('last_name', '')}".strip(),
    }
    return render(request, "leads/separate.html", context)
