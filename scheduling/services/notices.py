"""The e-mail a person gets when their visit is booked, moved or cancelled, with the visit's
calendar file (scheduling.ics), so their calendar adds, moves or drops the one event.

It is queued through outreach in the caller's transaction: consent, opt-outs and quiet hours
apply as to any message, and the message's idempotency key (appointment, SEQUENCE, kind) makes a
retried request the same e-mail. A person without an e-mail address or consent to e-mail gets
none; the blocked message on the lead page says why.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.formats import date_format

from leads.outreach.models import MessageChannel, OutboundMessage, Purpose
from leads.outreach.services.sending import message_queue
from scheduling.ics import appointment_ics
from scheduling.models import Appointment
from trialsnest.audit.services import Actor

BOOKED, MOVED, CANCELLED = "booked", "moved", "cancelled"

SUBJECTS = {
    "en": {
        BOOKED: "Your visit at {site} on {when}",
        MOVED: "Your visit at {site} has moved to {when}",
        CANCELLED: "Your visit at {site} on {when} is cancelled",
    },
    "es": {
        BOOKED: "Su visita en {site} el {when}",
        MOVED: "Su visita en {site} ha cambiado al {when}",
        CANCELLED: "Su visita en {site} del {when} está cancelada",
    },
}
OPENINGS = {
    "en": {
        BOOKED: "Your {visit} is booked for {when} ({tz}).",
        MOVED: "Your {visit} has moved to {when} ({tz}).",
        CANCELLED: "Your {visit} on {when} ({tz}) is cancelled. The study team will contact you "
        "to find another time.",
    },
    "es": {
        BOOKED: "Su {visit} está programada para el {when} ({tz}).",
        MOVED: "Su {visit} ha cambiado al {when} ({tz}).",
        CANCELLED: "Su {visit} del {when} ({tz}) está cancelada. El equipo del estudio se "
        "comunicará con usted para buscar otra fecha.",
    },
}
LINES = {
    "en": {
        "hello": "Hello {name},",
        "where": "Where: {address}",
        "prepare": "Before the visit: {preparation}",
        "calendar": "The attached calendar file adds the visit to your calendar (or updates it).",
        "questions": "Questions, or need another time? Reply to this e-mail.",
    },
    "es": {
        "hello": "Hola {name}:",
        "where": "Dónde: {address}",
        "prepare": "Antes de la visita: {preparation}",
        "calendar": "El archivo de calendario adjunto agrega la visita a su calendario "
        "(o la actualiza).",
        "questions": "¿Preguntas, o necesita otra fecha? Responda a este correo.",
    },
}
WHEN_FORMAT = {"en": "l j F Y, H:i", "es": r"l j \d\e F \d\e Y, H:i"}


def _language(appointment: Appointment) -> str:
    preferred = (appointment.lead.person.preferred_language or "en").lower()
    return "es" if preferred.startswith("es") else "en"


def notice_text(appointment: Appointment, kind: str) -> tuple[str, str]:
    """(subject, body) in the person's language, the time on the site's clock."""
    language = _language(appointment)
    site, visit_type = appointment.site, appointment.visit_type
    tz = site.timezone
    local = appointment.starts_at.astimezone(ZoneInfo(tz))
    with translation.override(language):
        when = date_format(local, WHEN_FORMAT[language])
    lines = LINES[language]
    address = ", ".join(p for p in (site.address, site.city, site.state) if p) or site.name
    subject = SUBJECTS[language][kind].format(site=site.name, when=when)
    body = [
        lines["hello"].format(name=appointment.lead.person.first_name),
        "",
        OPENINGS[language][kind].format(visit=visit_type.name, when=when, tz=tz),
    ]
    if kind != CANCELLED:
        body.append(lines["where"].format(address=address))
        if visit_type.preparation:
            body.append(lines["prepare"].format(preparation=visit_type.preparation))
    body += ["", lines["calendar"], lines["questions"]]
    return subject, "\n".join(body)


def appointment_notice(*, appointment: Appointment, kind: str, actor: Actor) -> OutboundMessage:
    """Queue the booked / moved / cancelled e-mail with the appointment's calendar file as it
    stands now (call after the change is saved, in its transaction)."""
    subject, body = notice_text(appointment, kind)
    lead = appointment.lead
    return message_queue(
        person=lead.person,
        lead=lead,
        channel=MessageChannel.EMAIL,
        subject=subject,
        body=body,
        actor=actor,
        purpose=Purpose.APPOINTMENT,
        idempotency_key=f"visit:{appointment.code}:{appointment.sequence}:{kind}",
        calendar=appointment_ics(appointment).decode(),
    )
