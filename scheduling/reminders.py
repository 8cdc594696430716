"""Appointment reminders to the patient: at each of the visit type's reminder hours before a
booked visit (48 h and 2 h unless set otherwise).

A reminder is claimed by its outreach message's idempotency key
(`visit-reminder:<appointment>:<hours>h`, unique per organization), so a scan run twice, or by
two beats at once, queues each reminder once, and outreach sends it exactly once, checking
consent, opt-outs and quiet hours when it sends (leads.outreach.services.sending). A reminder
whose moment had passed when the visit was booked (the 48 h one of a visit booked for
tomorrow) is not sent, nor one for a visit that was cancelled or has begun.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from leads.outreach.models import MessageChannel, OutboundMessage, Purpose
from leads.outreach.services.sending import message_queue
from scheduling.models import ACTIVE_STATUSES, Appointment
from trialsnest.audit.services import Actor
from trialsnest.ops.jobs import job_run

BATCH = 1_000
# Reminders the scan looks back for: a beat that was down this long still sends them late.
CATCH_UP = timedelta(hours=1)

_DUE = """
    SELECT a.id, h.hours
    FROM scheduling_appointment a
    JOIN scheduling_visittype v ON v.id = a.visit_type_id
    CROSS JOIN LATERAL unnest(v.reminder_hours) AS h(hours)
    WHERE a.status = ANY(%(active)s) AND a.starts_at > %(now)s
      AND a.starts_at - make_interval(hours => h.hours) <= %(now)s
      AND a.starts_at - make_interval(hours => h.hours) > %(since)s
      AND a.starts_at - make_interval(hours => h.hours) >= a.created_at
    ORDER BY a.starts_at
    LIMIT %(limit)s
"""


def reminder_key(appointment: Appointment, hours: int) -> str:
    return f"visit-reminder:{appointment.code}:{hours}h"


def reminder_text(appointment: Appointment) -> str:
    site = appointment.site
    local = appointment.starts_at.astimezone(zoneinfo.ZoneInfo(site.timezone))
    return (
        f"Reminder: your study visit at {site.name} is on {local:%a %b %d at %H:%M}. "
        "To change it, call us. Reply STOP to opt out."
    )


def appointment_reminders_queue(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Beat: queue the reminders that fell due; returns how many were new."""
    now = now or timezone.now()
    with job_run("appointment_reminders") as counts:
        counts.touch("reminders_queued")
        with connection.cursor() as cursor:
            cursor.execute(
                _DUE,
                {"active": list(ACTIVE_STATUSES), "now": now, "since": now - CATCH_UP,
                 "limit": limit},
            )  # fmt: skip
            due = cursor.fetchall()
        appointments = Appointment.objects.select_related("lead__person", "site").in_bulk(
            [appointment_id for appointment_id, _ in due]
        )
        keys = {(a, h): reminder_key(appointments[a], h) for a, h in due}
        claimed = set(
            OutboundMessage.objects.filter(idempotency_key__in=keys.values()).values_list(
                "idempotency_key", flat=True
            )
        )
        queued = 0
        for (appointment_id, _hours), key in keys.items():
            if key in claimed:
                continue  # queued by an earlier run (the key would return that message anyway)
            appointment = appointments[appointment_id]
            person = appointment.lead.person
            message_queue(
                person=person,
                lead=appointment.lead,
                # A text when they agreed to texts, else an e-mail (the checks still apply).
                channel=MessageChannel.SMS
                if person.phone and person.consent_sms
                else MessageChannel.EMAIL,
                subject="Your study visit",
                body=reminder_text(appointment),
                actor=Actor(user=None),
                idempotency_key=key,
                purpose=Purpose.APPOINTMENT,
            )
            queued += 1
            counts.add("reminders_queued", appointment.organization_id)
    return queued
