"""Calendar files parse, and a calendar client updates one event: the UID stays, SEQUENCE
rises on every reschedule and cancellation, and a cancellation is a METHOD:CANCEL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from scheduling.ics import appointment_ics
from scheduling.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from tests.conftest import World
from trialsnest.audit.services import Actor

TEN = datetime(2026, 3, 2, 16, tzinfo=UTC)
ACTOR = Actor(user=None)


def _event(appointment):
    calendar = Calendar.from_ical(appointment_ics(appointment))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_uid_stays_and_the_sequence_rises_across_reschedule_and_cancel(
    world: World, visit_type, ready
):
    appointment = appointment_book(lead=ready, visit_type=visit_type, starts_at=TEN, actor=ACTOR)
    calendar, booked = _event(appointment)

    appointment = appointment_reschedule(
        appointment=appointment, starts_at=TEN + timedelta(days=1), actor=ACTOR
    )
    _, moved = _event(appointment)
    appointment = appointment_cancel(appointment=appointment, reason="Travel", actor=ACTOR)
    cancelled_calendar, cancelled = _event(appointment)

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(booked["UID"]) == f"{appointment.code}@trialsnest"
    assert str(moved["UID"]) == str(booked["UID"]) == str(cancelled["UID"])
    assert [booked["SEQUENCE"], moved["SEQUENCE"], cancelled["SEQUENCE"]] == [0, 1, 2]
    assert booked.decoded("DTSTART") == TEN
    assert moved.decoded("DTSTART") == TEN + timedelta(days=1)
    assert moved.decoded("DTEND") == TEN + timedelta(days=1, hours=1)
    assert str(cancelled_calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"


def test_the_file_names_the_visit_and_site_but_not_the_patient(world: World, visit_type, ready):
    appointment = appointment_book(lead=ready, visit_type=visit_type, starts_at=TEN, actor=ACTOR)

    _, event = _event(appointment)
    content = appointment_ics(appointment)

    assert str(event["SUMMARY"]) == f"Screening visit — {world.site_a.name}"
    assert str(event["DESCRIPTION"]) == "Fast for 8 hours before the visit."
    assert "Maria" not in content.decode()
