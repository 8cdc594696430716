"""Booking a visit and every change to it afterwards.

Each service is atomic, audited in the same transaction, and moves the lead through the leads
services (so the lead keeps its invariant and its timeline). Double booking is refused by
PostgreSQL's exclusion constraint on Booking: the loser of a race gets `SlotTaken`, with the
slots still free, instead of an error page. A booking locks its resources first, so a loser
usually learns it at once, before it has moved its lead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg.errors
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from leads.models import ActionKind, Lead, Status
from leads.services import lead_change_status, lead_set_next_action
from scheduling.models import (
    REASON_MAX,
    Appointment,
    AppointmentStatus,
    Booking,
    Resource,
    VisitType,
)
from scheduling.selectors import Day, free_slots, is_offered, offered_week
from scheduling.services.notices import BOOKED, CANCELLED, MOVED, appointment_notice
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import check_text

TAKEN = "That time was just booked by someone else. Pick another time below."
ALREADY_BOOKED = "This lead already has a visit on the calendar: reschedule or cancel it."


class SlotTaken(Exception):
    """The slot went to someone else first; `days` are the free slots of its week now."""

    def __init__(self, days: list[Day]) -> None:
        super().__init__(TAKEN)
        self.message = TAKEN
        self.days = days


def _constraint(error: IntegrityError) -> str:
    cause = error.__cause__
    if isinstance(cause, psycopg.errors.IntegrityError) and cause.diag.constraint_name:
        return cause.diag.constraint_name
    return ""


def _local(visit_type: VisitType, moment: datetime) -> str:
    zone = ZoneInfo(visit_type.study_site.site.timezone)
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def _check_start(visit_type: VisitType, starts_at: datetime) -> list[Day]:
    """Refuse a start the site does not offer; returns the offered starts of its week."""
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "Pick a time from the list."})
    if starts_at <= timezone.now():
        raise ValidationError({"starts_at": "That time has passed. Pick another time."})
    week = offered_week(visit_type, starts_at)
    if not is_offered(week, starts_at):
        raise ValidationError({"starts_at": "The site does not offer that time. Pick another."})
    return week


def _reason(reason: str) -> str:
    reason = check_text(reason.strip(), field="reason", max_length=REASON_MAX)
    if not reason:
        raise ValidationError({"reason": "Say why."})
    return reason


def _audit(appointment: Appointment, action: str, actor: Actor, **changes: object) -> None:
    audit_record(
        action=f"appointment.{action}",
        actor=actor.user,
        organization_id=appointment.organization_id,
        obj=appointment,
        changes={name: {"new": str(value)} for name, value in changes.items()},
        request=actor.request,
    )


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("visit_type__study_site__site", "lead")
        .get(pk=appointment.pk)
    )


def _taken(visit_type: VisitType, week: list[Day], ignore: Appointment | None) -> SlotTaken:
    """The refusal, with the free slots of the week (`week`: what _check_start returned)."""
    return SlotTaken(free_slots(visit_type, week[0].day, offered=week, ignore=ignore))


class _Held(Exception):
    """The time is already booked (found under the resources' locks)."""


def _lock_resources(resources: list[Resource]) -> None:
    """Lock the resources' rows, in one order so that two bookings never deadlock."""
    pks = sorted(resource.pk for resource in resources)
    # FOR NO KEY UPDATE: bookings queue behind each other, not behind a row that refers to one.
    rows = Resource.objects.select_for_update(no_key=True).filter(pk__in=pks).order_by("pk")
    list(rows.values_list("pk"))


def _held(resources: list[Resource], starts_at: datetime, ends_at: datetime) -> bool:
    """Whether an active booking already holds one of the resources at that time."""
    return Booking.objects.filter(
        resource__in=resources, active=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists()


def appointment_book(
    *, lead: Lead, visit_type: VisitType, starts_at: datetime, actor: Actor
) -> Appointment:
    """Book the lead's visit: the appointment, one booking per needed resource, and the lead
    moved to visit scheduled with "confirm visit" as its next action."""
    if visit_type.study_site_id != lead.study_site_id or not visit_type.is_active:
        raise ValidationError({"visit_type": "Pick a visit type of this lead's study."})
    prefetch_related_objects([visit_type], "resources")  # read once, here and by free_slots
    resources = [r for r in visit_type.resources.all() if r.is_active]
    if not resources:
        raise ValidationError({"visit_type": "This visit type needs a room, person or device."})
    week = _check_start(visit_type, starts_at)
    if lead.status != Status.RECORDS_READY:
        if lead.status == Status.VISIT_SCHEDULED:
            raise ValidationError(ALREADY_BOOKED)
        raise ValidationError("Only a lead that is ready to schedule can be booked.")
    ends_at = starts_at + timedelta(minutes=visit_type.duration_minutes)
    try:
        with transaction.atomic():
            # One booking of a resource at a time: a request that finds another in flight waits
            # for it (milliseconds), then sees its booking and is refused at once, without moving
            # the lead only to roll it back. The exclusion constraint stays the guarantee.
            _lock_resources(resources)
            if _held(resources, starts_at, ends_at):
                raise _Held
            lead = lead_change_status(
                lead=lead,
                status=Status.VISIT_SCHEDULED,
                actor=actor,
                reason=f"{visit_type.name} booked for {_local(visit_type, starts_at)}",
                next_action=ActionKind.CONFIRM_VISIT,
            )
            appointment = Appointment.objects.create(
                organization_id=lead.organization_id,
                lead=lead,
                visit_type=visit_type,
                site_id=visit_type.study_site.site_id,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            Booking.objects.bulk_create(
                Booking(
                    organization_id=lead.organization_id,
                    appointment=appointment,
                    resource=resource,
                    starts_at=starts_at,
                    ends_at=ends_at,
                )
                for resource in resources
            )
            _audit(appointment, "booked", actor, starts_at=starts_at, visit_type=visit_type.code)
            appointment_notice(appointment=appointment, kind=BOOKED, actor=actor)
    except _Held:
        raise _taken(visit_type, week, None) from None
    except IntegrityError as error:
        if _constraint(error) == "appointment_one_active_per_lead":
            raise ValidationError(ALREADY_BOOKED) from error
        if _constraint(error) != "booking_no_double_booking":
            raise
        raise _taken(visit_type, week, None) from error
    return appointment


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The patient confirmed: the lead's next action becomes the handoff after the visit."""
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError("Only a booked visit can be confirmed.")
    appointment.status = AppointmentStatus.CONFIRMED
    appointment.save(update_fields=["status", "updated_at"])
    lead_set_next_action(
        lead=appointment.lead,
        kind=ActionKind.HAND_OFF,
        due_at=appointment.ends_at,
        actor=actor,
        note="Visit confirmed",
    )
    _audit(appointment, "confirmed", actor, status=appointment.status)
    return appointment


def appointment_reschedule(
    *, appointment: Appointment, starts_at: datetime, actor: Actor
) -> Appointment:
    """Move the visit (its bookings move with it); it needs confirming again."""
    visit_type = appointment.visit_type
    week = _check_start(visit_type, starts_at)
    try:
        with transaction.atomic():
            appointment = _lock(appointment)
            if not appointment.is_active:
                raise ValidationError("Only a booked or confirmed visit can be rescheduled.")
            if appointment.starts_at == starts_at:
                raise ValidationError({"starts_at": "The visit is already at that time."})
            ends_at = starts_at + timedelta(minutes=visit_type.duration_minutes)
            appointment.bookings.filter(active=True).update(starts_at=starts_at, ends_at=ends_at)
            appointment.starts_at, appointment.ends_at = starts_at, ends_at
            appointment.status = AppointmentStatus.BOOKED
            appointment.sequence += 1
            appointment.reschedule_count += 1
            appointment.save()
            lead_set_next_action(
                lead=appointment.lead,
                kind=ActionKind.CONFIRM_VISIT,
                due_at=timezone.now(),
                actor=actor,
                note=f"Visit moved to {_local(visit_type, starts_at)}",
            )
            _audit(appointment, "rescheduled", actor, starts_at=starts_at)
            appointment_notice(appointment=appointment, kind=MOVED, actor=actor)
    except IntegrityError as error:
        if _constraint(error) != "booking_no_double_booking":
            raise
        raise _taken(visit_type, week, appointment) from error
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, reason: str, actor: Actor) -> Appointment:
    """Cancel the visit, free its resources, and send the lead back to be scheduled."""
    reason = _reason(reason)
    appointment = _lock(appointment)
    if not appointment.is_active:
        raise ValidationError("Only a booked or confirmed visit can be cancelled.")
    appointment.status, appointment.cancel_reason = AppointmentStatus.CANCELLED, reason
    appointment.sequence += 1
    appointment.save()
    appointment.bookings.update(active=False)
    lead_change_status(
        lead=appointment.lead,
        status=Status.RECORDS_READY,
        actor=actor,
        reason=f"Visit cancelled: {reason}",
        next_action=ActionKind.SCHEDULE_VISIT,
    )
    _audit(appointment, "cancelled", actor, reason=reason)
    appointment_notice(appointment=appointment, kind=CANCELLED, actor=actor)
    return appointment


def _after_start(appointment: Appointment, what: str) -> None:
    if not appointment.is_active:
        raise ValidationError(f"Only a booked or confirmed visit can be marked {what}.")
    if appointment.starts_at > timezone.now():
        raise ValidationError(f"A visit can be marked {what} once it has started.")


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, reason: str, actor: Actor) -> Appointment:
    """The patient did not come: the lead goes back to ready to schedule, with a follow-up."""
    reason = _reason(reason)
    appointment = _lock(appointment)
    _after_start(appointment, "a no-show")
    appointment.status, appointment.no_show_reason = AppointmentStatus.NO_SHOW, reason
    appointment.save()
    lead_change_status(
        lead=appointment.lead,
        status=Status.RECORDS_READY,
        actor=actor,
        reason=f"No-show: {reason}",
        next_action=ActionKind.FOLLOW_UP,
    )
    _audit(appointment, "no_show", actor, reason=reason)
    return appointment


@transaction.atomic
def appointment_complete(*, appointment: Appointment, actor: Actor) -> Appointment:
    """The screening visit took place: the lead is handed off to the study team."""
    appointment = _lock(appointment)
    _after_start(appointment, "completed")
    appointment.status = AppointmentStatus.COMPLETED
    appointment.save()
    lead_change_status(
        lead=appointment.lead,
        status=Status.HANDED_OFF,
        actor=actor,
        reason=f"{appointment.visit_type.name} completed",
    )
    _audit(appointment, "completed", actor, status=appointment.status)
    return appointment
