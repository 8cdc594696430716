"""Calendar files (RFC 5545) for an appointment, made with `icalendar`.

One appointment is one event forever: its UID comes from the appointment's code and its
SEQUENCE from the appointment's, raised on every reschedule and cancellation, so a calendar
client updates the event it has instead of adding another. A cancelled appointment's file is a
METHOD:CANCEL. The booked, moved and cancelled e-mails carry it (scheduling.services.notices),
and the appointment page offers it as a download.
"""

from __future__ import annotations

from django.utils import timezone
from icalendar import Calendar, Event

from scheduling.models import Appointment, AppointmentStatus

PRODID = "-//TrialsNest//Scheduling//EN"
UID_DOMAIN = "trialsnest"


def appointment_uid(appointment: Appointment) -> str:
    return f"{appointment.code}@{UID_DOMAIN}"


def appointment_ics(appointment: Appointment) -> bytes:
    """The appointment as an iCalendar file: a REQUEST while it stands, a CANCEL once it is
    cancelled. No patient detail goes in it: only the visit, the site and its address."""
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    visit_type = appointment.visit_type
    site = appointment.site
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"{visit_type.name} — {site.name}")
    address = ", ".join(part for part in (site.address, site.city, site.state) if part)
    event.add("location", address or site.name)
    if visit_type.preparation:
        event.add("description", visit_type.preparation)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content
