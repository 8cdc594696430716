"""Booking from the lead page: the week of free slots, booking a slot, the appointment and
its changes, its calendar file. An htmx request gets the page's fragment; every link and form
also works as a plain page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from leads.gatekeepers import get_lead_for_user
from leads.models import Lead
from scheduling.forms import ReasonForm, SlotForm
from scheduling.gatekeepers import get_appointment_for_user, get_visit_type_of_lead
from scheduling.ics import appointment_ics
from scheduling.models import Appointment, VisitType
from scheduling.presenters import site_clock
from scheduling.selectors import free_slots, visit_types_of, week_start
from scheduling.services.appointments import (
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
)
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest


def _week(request: TenantRequest, tz: str) -> date:
    today = timezone.now().astimezone(ZoneInfo(tz)).date()
    try:
        asked = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        asked = today
    # Within a year ahead: past weeks have no free slots, and nobody books further out.
    asked = min(max(asked, today), today + timedelta(days=366))
    return week_start(asked)


def _week_context(
    request: TenantRequest,
    lead: Lead,
    visit_type: VisitType | None,
    monday: date,
    *,
    appointment: Appointment | None = None,
    error: str = "",
) -> dict[str, Any]:
    days = free_slots(visit_type, monday, ignore=appointment) if visit_type else []
    if appointment is not None:
        # Its own time counts as free (a move by half an hour may overlap it), but is no move.
        for day in days:
            day.slots = [s for s in day.slots if s.starts_at != appointment.starts_at]
    if appointment is not None:
        here = reverse("appointment_reschedule", kwargs={"code": appointment.code})
    else:
        here = reverse("lead_schedule", kwargs={"code": lead.code})
    query = f"?visit_type={visit_type.code}&week=" if visit_type else "?week="
    return {
        "lead": lead,
        "appointment": appointment,
        "visit_type": visit_type,
        "visit_types": list(visit_types_of(lead)),
        "days": days,
        "monday": monday,
        "here": here,
        "previous_url": f"{here}{query}{monday - timedelta(days=7)}",
        "next_url": f"{here}{query}{monday + timedelta(days=7)}",
        "tz": lead.study_site.site.timezone,
        "error": error,
    }


def _render_week(
    request: TenantRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    if request.htmx:
        # htmx swaps only 2xx answers: a refusal comes back as 200 with its message.
        return render(request, "scheduling/week.html#week", context)
    return render(request, "scheduling/week.html", context, status=status)


def _visit_type(lead: Lead, code: str | None) -> VisitType | None:
    if code:
        return get_visit_type_of_lead(lead, code)
    return visit_types_of(lead).select_related("study_site__site").first()


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def lead_schedule(request: TenantRequest, code: str) -> HttpResponse:
    """The week of free slots for one visit type (GET) and booking one of them (POST)."""
    lead = get_lead_for_user(request, code)
    tz = lead.study_site.site.timezone
    if request.method == "GET":
        visit_type = _visit_type(lead, request.GET.get("visit_type"))
        return _render_week(request, _week_context(request, lead, visit_type, _week(request, tz)))
    visit_type = _visit_type(lead, request.POST.get("visit_type") or "-")
    assert visit_type is not None
    form = SlotForm(request.POST)
    error = ""
    if form.is_valid():
        starts_at = form.cleaned_data["starts_at"]
        try:
            appointment = appointment_book(
                lead=lead, visit_type=visit_type, starts_at=starts_at, actor=Actor.of(request)
            )
        except SlotTaken as taken:
            context = _week_context(request, lead, visit_type, _week(request, tz))
            context.update(days=taken.days, error=taken.message)
            return _render_week(request, context, status=409)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, f"Visit booked for {site_clock(starts_at, tz)}.")
            return _to(request, appointment)
    else:
        error = "Pick a time from the list."
    context = _week_context(request, lead, visit_type, _week(request, tz), error=error)
    return _render_week(request, context, status=422)


def _to(request: TenantRequest, appointment: Appointment) -> HttpResponse:
    url = reverse("appointment_detail", kwargs={"code": appointment.code})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _detail_context(appointment: Appointment, **forms: ReasonForm) -> dict[str, Any]:
    tz = appointment.site.timezone
    return {
        "appointment": appointment,
        "lead": appointment.lead,
        "when": site_clock(appointment.starts_at, tz),
        "until": site_clock(appointment.ends_at, tz),
        "cancel_form": forms.get("cancel") or ReasonForm(prefix="cancel"),
        "no_show_form": forms.get("no_show") or ReasonForm(prefix="no_show"),
        "started": appointment.starts_at <= timezone.now(),
    }


@not_for_sponsors
@member_required()
@require_GET
def appointment_detail(request: TenantRequest, code: str) -> HttpResponse:
    appointment = get_appointment_for_user(request, code)
    return render(request, "scheduling/appointment.html", _detail_context(appointment))


ACTIONS = ("confirm", "cancel", "no_show", "complete")


@not_for_sponsors
@member_required()
@require_POST
def appointment_action(request: TenantRequest, code: str, action: str) -> HttpResponse:
    """Confirm, cancel (with a reason), mark a no-show (with a reason) or completed."""
    if action not in ACTIONS:
        raise Http404("Not found.")
    appointment = get_appointment_for_user(request, code)
    actor = Actor.of(request)
    form = ReasonForm(request.POST, prefix=action) if action in ("cancel", "no_show") else None
    try:
        if form is not None and not form.is_valid():
            raise ValidationError("")
        if action == "confirm":
            appointment_confirm(appointment=appointment, actor=actor)
        elif action == "complete":
            appointment_complete(appointment=appointment, actor=actor)
        elif action == "cancel" and form is not None:
            reason = form.cleaned_data["reason"]
            appointment_cancel(appointment=appointment, reason=reason, actor=actor)
        elif form is not None:
            reason = form.cleaned_data["reason"]
            appointment_no_show(appointment=appointment, reason=reason, actor=actor)
    except ValidationError as refused:
        if form is not None and refused.messages != [""]:
            add_errors(form, refused)
        elif form is None:
            messages.error(request, " ".join(refused.messages))
            return _to(request, appointment)
        context = _detail_context(appointment, **({action: form} if form else {}))
        return render(request, "scheduling/appointment.html", context, status=422)
    messages.success(request, "Saved.")
    return _to(request, appointment)


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def appointment_move(request: TenantRequest, code: str) -> HttpResponse:
    """Rescheduling: the week of free slots of the visit's type (GET) and the move (POST)."""
    appointment = get_appointment_for_user(request, code)
    lead, visit_type = appointment.lead, appointment.visit_type
    tz = appointment.site.timezone
    if not appointment.is_active:
        messages.error(request, "Only a booked or confirmed visit can be rescheduled.")
        return _to(request, appointment)
    monday = _week(request, tz)
    if request.method == "GET":
        context = _week_context(request, lead, visit_type, monday, appointment=appointment)
        return _render_week(request, context)
    form = SlotForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            appointment_reschedule(
                appointment=appointment,
                starts_at=form.cleaned_data["starts_at"],
                actor=Actor.of(request),
            )
        except SlotTaken as taken:
            context = _week_context(request, lead, visit_type, monday, appointment=appointment)
            context.update(days=taken.days, error=taken.message)
            return _render_week(request, context, status=409)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, "Visit moved.")
            return _to(request, appointment)
    else:
        error = "Pick a time from the list."
    context = _week_context(request, lead, visit_type, monday, appointment=appointment)
    context["error"] = error
    return _render_week(request, context, status=422)


@not_for_sponsors
@member_required()
@require_GET
def appointment_calendar(request: TenantRequest, code: str) -> HttpResponse:
    appointment = get_appointment_for_user(request, code)
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="visit-{appointment.code}.ics"'
    return response
