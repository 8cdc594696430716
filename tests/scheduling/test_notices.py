"""The person's e-mails about their visit: booked, moved and cancelled each arrive once, in their
language, with the calendar file that adds, moves or drops the one event in their calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core import mail
from icalendar import Calendar

from leads.outreach.models import OutboundMessage, Purpose
from scheduling.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from scheduling.services.notices import BOOKED, appointment_notice
from tests.conftest import World
from tests.scheduling.conftest import ready_lead
from trialsnest.audit.services import Actor

TEN = datetime(2026, 3, 2, 16, tzinfo=UTC)  # 10:00 in Chicago
ACTOR = Actor(user=None)


def _calendar(message: mail.EmailMessage) -> tuple[str, Calendar]:
    ((name, content, mimetype),) = message.attachments
    assert name == "visit.ics"
    return mimetype, Calendar.from_ical(content)


def test_booked_moved_and_cancelled_each_send_one_email_with_the_same_event(
    world: World, visit_type, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(
            lead=ready, visit_type=visit_type, starts_at=TEN, actor=ACTOR
        )
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_reschedule(
            appointment=appointment, starts_at=TEN + timedelta(days=1), actor=ACTOR
        )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, reason="Travel", actor=ACTOR)

    booked, moved, cancelled = mail.outbox
    assert [m.to for m in mail.outbox] == [[ready.person.email]] * 3
    assert booked.subject == f"Your visit at {world.site_a.name} on Monday 2 March 2026, 10:00"
    assert "Hello Maria," in booked.body
    assert "Your Screening visit is booked for Monday 2 March 2026, 10:00" in booked.body
    assert "Before the visit: Fast for 8 hours before the visit." in booked.body
    assert moved.subject.endswith("has moved to Tuesday 3 March 2026, 10:00")
    assert "is cancelled" in cancelled.subject

    events = []
    for message, method in ((booked, "REQUEST"), (moved, "REQUEST"), (cancelled, "CANCEL")):
        mimetype, calendar = _calendar(message)
        assert f"method={method}" in mimetype
        assert str(calendar["METHOD"]) == method
        (event,) = calendar.walk("VEVENT")
        events.append(event)
    assert len({str(e["UID"]) for e in events}) == 1
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]
    assert events[1].decoded("DTSTART") == TEN + timedelta(days=1)
    assert OutboundMessage.objects.filter(purpose=Purpose.APPOINTMENT, status="sent").count() == 3


def test_a_spanish_speaker_gets_the_email_in_spanish(
    world: World, visit_type, clock, django_capture_on_commit_callbacks
):
    lead = ready_lead(
        world.study_site_a, person__first_name="Lucía", person__preferred_language="es"
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(lead=lead, visit_type=visit_type, starts_at=TEN, actor=ACTOR)

    (message,) = mail.outbox
    assert message.subject == f"Su visita en {world.site_a.name} el lunes 2 de marzo de 2026, 10:00"
    assert message.body.startswith("Hola Lucía:")
    assert "Antes de la visita: Fast for 8 hours" in message.body


def test_without_consent_to_email_nothing_is_sent_and_the_lead_says_why(
    world: World, visit_type, clock, django_capture_on_commit_callbacks
):
    lead = ready_lead(world.study_site_a, person__consent_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(lead=lead, visit_type=visit_type, starts_at=TEN, actor=ACTOR)

    assert mail.outbox == []
    (message,) = OutboundMessage.objects.filter(lead=lead)
    assert (message.status, message.reason) == ("blocked", "No consent to E-mail.")


def test_a_retried_booking_notice_is_the_same_message(world: World, visit_type, ready):
    appointment = appointment_book(lead=ready, visit_type=visit_type, starts_at=TEN, actor=ACTOR)
    again = appointment_notice(appointment=appointment, kind=BOOKED, actor=ACTOR)

    assert OutboundMessage.objects.filter(lead=ready).count() == 1
    assert OutboundMessage.objects.get(lead=ready).pk == again.pk
