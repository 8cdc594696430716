"""Booking and every change after it: the lead moves through the leads services, reasons are
kept, every change is audited, and PostgreSQL refuses a double booking."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leads.models import ActionKind, ActivityKind, Status
from scheduling.models import Appointment, AppointmentStatus, Booking
from scheduling.services.appointments import (
    TAKEN,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
)
from tests.conftest import World
from tests.leads.conftest import fresh
from tests.scheduling.conftest import MONDAY, ready_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

CHICAGO = ZoneInfo("America/Chicago")
TEN = datetime.combine(MONDAY, time(10), tzinfo=CHICAGO).astimezone(UTC)
ACTOR = Actor(user=None)


def _book(lead, visit_type, at=TEN):
    return appointment_book(lead=lead, visit_type=visit_type, starts_at=at, actor=ACTOR)


def test_booking_holds_every_needed_resource_and_moves_the_lead_to_visit_scheduled(
    world: World, visit_type, ready
):
    appointment = _book(ready, visit_type)

    lead = fresh(ready)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at - appointment.starts_at == timedelta(hours=1)
    assert {b.resource_id for b in appointment.bookings.all()} == {
        r.pk for r in visit_type.resources.all()
    }
    assert lead.status == Status.VISIT_SCHEDULED
    assert lead.next_action == ActionKind.CONFIRM_VISIT
    assert lead.scheduled_at is not None
    assert lead.activities.filter(kind=ActivityKind.STATUS_CHANGE, data__to="visit_scheduled")
    assert AuditEvent.objects.filter(action="appointment.booked", object_id=str(appointment.code))


def test_a_second_booking_of_a_held_resource_is_refused_with_the_free_slots(
    world: World, visit_type, ready
):
    _book(ready, visit_type)
    other = ready_lead(world.study_site_a)

    with pytest.raises(SlotTaken) as refused:
        _book(other, visit_type)

    assert refused.value.message == TAKEN
    free = [s.starts_at for d in refused.value.days for s in d.slots]
    assert TEN not in free
    assert TEN + timedelta(hours=1) in free
    assert fresh(other).status == Status.RECORDS_READY  # nothing of the refused booking stays
    assert Appointment.objects.filter(lead=other).count() == 0


def test_postgresql_itself_refuses_overlapping_bookings_of_one_resource(
    world: World, visit_type, ready
):
    appointment = _book(ready, visit_type)
    room = visit_type.resources.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            organization=world.org_a,
            appointment=appointment,
            resource=room,
            starts_at=TEN + timedelta(minutes=59),
            ends_at=TEN + timedelta(hours=2),
        )
    # Back to back is fine, and so is an inactive (cancelled) booking.
    Booking.objects.create(
        organization=world.org_a,
        appointment=appointment,
        resource=room,
        starts_at=TEN + timedelta(hours=1),
        ends_at=TEN + timedelta(hours=2),
    )
    Booking.objects.create(
        organization=world.org_a,
        appointment=appointment,
        resource=room,
        starts_at=TEN,
        ends_at=TEN + timedelta(hours=1),
        active=False,
    )


def test_a_time_the_site_does_not_offer_is_refused(world: World, visit_type, ready):
    with pytest.raises(ValidationError, match="does not offer"):
        _book(ready, visit_type, TEN + timedelta(minutes=10))
    with pytest.raises(ValidationError, match="does not offer"):
        _book(ready, visit_type, TEN + timedelta(hours=5))  # 15:00, after closing
    assert not Appointment.objects.exists()


def test_a_lead_not_ready_to_schedule_cannot_be_booked(world: World, visit_type, ready):
    _book(ready, visit_type)

    with pytest.raises(ValidationError, match="already has a visit"):
        _book(fresh(ready), visit_type, TEN + timedelta(hours=1))


def test_a_visit_type_of_another_study_site_is_refused(world: World, visit_type_b, ready):
    with pytest.raises(ValidationError, match="visit type of this lead"):
        _book(ready, visit_type_b)


def test_confirming_makes_the_handoff_the_next_action_at_the_end_of_the_visit(
    world: World, visit_type, ready
):
    appointment = appointment_confirm(appointment=_book(ready, visit_type), actor=ACTOR)

    lead = fresh(ready)
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert lead.next_action == ActionKind.HAND_OFF
    assert lead.next_action_due_at == appointment.ends_at


def test_rescheduling_moves_the_bookings_raises_the_sequence_and_asks_for_confirmation(
    world: World, visit_type, ready
):
    appointment = appointment_confirm(appointment=_book(ready, visit_type), actor=ACTOR)
    later = TEN + timedelta(days=1)

    moved = appointment_reschedule(appointment=appointment, starts_at=later, actor=ACTOR)

    assert moved.sequence == 1
    assert moved.status == AppointmentStatus.BOOKED
    assert {b.starts_at for b in moved.bookings.all()} == {later}
    assert fresh(ready).next_action == ActionKind.CONFIRM_VISIT
    # The old time is free again, for another lead.
    _book(ready_lead(world.study_site_a), visit_type, TEN)


def test_rescheduling_onto_a_taken_time_is_refused_and_leaves_the_visit_where_it_was(
    world: World, visit_type, ready
):
    appointment = _book(ready, visit_type)
    _book(ready_lead(world.study_site_a), visit_type, TEN + timedelta(hours=1))

    with pytest.raises(SlotTaken):
        appointment_reschedule(
            appointment=appointment, starts_at=TEN + timedelta(hours=1), actor=ACTOR
        )

    appointment.refresh_from_db()
    assert appointment.starts_at == TEN
    assert appointment.sequence == 0


def test_cancelling_keeps_the_reason_frees_the_time_and_returns_the_lead_to_be_scheduled(
    world: World, visit_type, ready
):
    appointment = appointment_cancel(
        appointment=_book(ready, visit_type), reason="Patient has the flu", actor=ACTOR
    )

    lead = fresh(ready)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Patient has the flu"
    assert appointment.sequence == 1
    assert not appointment.bookings.filter(active=True).exists()
    assert lead.status == Status.RECORDS_READY
    assert lead.next_action == ActionKind.SCHEDULE_VISIT
    assert lead.activities.filter(text="Visit cancelled: Patient has the flu").exists()
    _book(ready_lead(world.study_site_a), visit_type, TEN)  # the time is free again


def test_cancelling_needs_a_reason(world: World, visit_type, ready):
    appointment = _book(ready, visit_type)

    with pytest.raises(ValidationError, match="Say why"):
        appointment_cancel(appointment=appointment, reason="  ", actor=ACTOR)


def test_a_no_show_keeps_its_reason_and_sets_a_follow_up(world: World, visit_type, ready, clock):
    appointment = _book(ready, visit_type)
    with pytest.raises(ValidationError, match="once it has started"):
        appointment_no_show(appointment=appointment, reason="Did not come", actor=ACTOR)
    clock.move_to(TEN + timedelta(minutes=30))

    appointment = appointment_no_show(appointment=appointment, reason="Did not come", actor=ACTOR)

    lead = fresh(ready)
    assert appointment.status == AppointmentStatus.NO_SHOW
    assert appointment.no_show_reason == "Did not come"
    assert lead.status == Status.RECORDS_READY
    assert lead.next_action == ActionKind.FOLLOW_UP
    assert lead.is_open


def test_a_completed_visit_hands_the_lead_off(world: World, visit_type, ready, clock):
    appointment = _book(ready, visit_type)
    clock.move_to(TEN + timedelta(hours=1))

    appointment = appointment_complete(appointment=appointment, actor=ACTOR)

    lead = fresh(ready)
    assert appointment.status == AppointmentStatus.COMPLETED
    assert lead.status == Status.HANDED_OFF
    assert lead.handed_off_at is not None
    assert AuditEvent.objects.filter(action="appointment.completed").count() == 1


def test_a_visit_booked_at_nine_local_after_the_dst_change_stays_at_nine_local(
    world: World, visit_type, ready
):
    before = datetime(2026, 3, 6, 9, tzinfo=CHICAGO)  # Friday, CST
    after = datetime(2026, 3, 9, 9, tzinfo=CHICAGO)  # Monday, CDT

    appointment = _book(ready, visit_type, before.astimezone(UTC))
    moved = appointment_reschedule(
        appointment=appointment, starts_at=after.astimezone(UTC), actor=ACTOR
    )

    stored = Appointment.objects.get(pk=moved.pk)
    assert stored.starts_at.utcoffset() == timedelta(0)
    assert stored.starts_at == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert stored.starts_at.astimezone(CHICAGO).strftime("%H:%M %Z") == "09:00 CDT"
