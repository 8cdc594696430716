"""Appointment reminders to the patient: at each of the visit type's reminder hours before a
booked visit (48 h and 2 h unless set otherwise).

A reminder is claimed by its outreach message's idempotency key
(`visit-reminder:<appointment>:<hours>h`, unique per organization), so a scan run twice, or by
two beats at once, queues each reminder once, and outreach sends it exactly once, checking
consent, opt-outs and quiet hours when it sends (leads.outreach.services.sending). The scan is
set-based (leads.outreach.services.bulk_queue): a batch is one read, one claiming INSERT with
its timeline entries, and a COPY of its audit rows, whatever the number of reminders. A reminder
whose moment had passed when the visit was booked (the 48 h one of a visit booked for
tomorrow) is not sent, nor one for a visit that was cancelled or has begun.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from leads.outreach.models import MessageChannel, Purpose
from leads.outreach.services.bulk_queue import Draft, messages_queue_many
from scheduling.models import ACTIVE_STATUSES, Appointment
from trialsnest.ops.jobs import job_run

BATCH = 1_000
# Reminders the scan looks back for: a beat that was down this long still sends them late.
CATCH_UP = timedelta(hours=1)

_DUE = """
    SELECT a.id, a.code::text, a.organization_id, a.starts_at, h.hours, l.id, l.version,
           p.id, p.phone, p.email, p.consent_sms, s.name, s.timezone
    FROM scheduling_appointment a
    JOIN scheduling_visittype v ON v.id = a.visit_type_id
    CROSS JOIN LATERAL unnest(v.reminder_hours) AS h(hours)
    JOIN leads_lead l ON l.id = a.lead_id
    JOIN leads_person p ON p.id = l.person_id
    JOIN tenancy_site s ON s.id = a.site_id
    WHERE a.status = ANY(%(active)s) AND a.starts_at > %(now)s
      AND a.starts_at - make_interval(hours => h.hours) <= %(now)s
      AND a.starts_at - make_interval(hours => h.hours) > %(since)s
      AND a.starts_at - make_interval(hours => h.hours) >= a.created_at
      AND NOT EXISTS (
          SELECT 1 FROM leads_outboundmessage m
          WHERE m.organization_id = a.organization_id
            AND m.idempotency_key = 'visit-reminder:' || a.code::text || ':' || h.hours || 'h')
    ORDER BY a.starts_at
    LIMIT %(limit)s
"""


def reminder_key(appointment: Appointment, hours: int) -> str:
    return _key(str(appointment.code), hours)


def _key(code: str, hours: int) -> str:
    return f"visit-reminder:{code}:{hours}h"


def reminder_text(appointment: Appointment) -> str:
    site = appointment.site
    return _text(site.name, site.timezone, appointment.starts_at)


def _text(site_name: str, zone: str, starts_at: datetime) -> str:
    local = starts_at.astimezone(zoneinfo.ZoneInfo(zone))
    return (
        f"Reminder: your study visit at {site_name} is on {local:%a %b %d at %H:%M}. "
        "To change it, call us. Reply STOP to opt out."
    )


def appointment_reminders_queue(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Beat: queue the reminders that fell due, in batches; returns how many were new."""
    now = now or timezone.now()
    queued = 0
    with job_run("appointment_reminders") as counts:
        counts.touch("reminders_queued")
        while True:
            with transaction.atomic():
                drafts = _drafts(now, limit)
                new = messages_queue_many(drafts, purpose=Purpose.APPOINTMENT)
            for organization_id, n in Counter(org for _id, org in new).items():
                counts.add("reminders_queued", organization_id, n)
            queued += len(new)
            if len(drafts) < limit or not new:
                return queued


def _drafts(now: datetime, limit: int) -> list[Draft]:
    with connection.cursor() as cursor:
        cursor.execute(
            _DUE,
            {"active": list(ACTIVE_STATUSES), "now": now, "since": now - CATCH_UP,
             "limit": limit},
        )  # fmt: skip
        due = cursor.fetchall()
    drafts = []
    for (_id, code, org, starts_at, hours, lead_id, version, person_id, phone, email,
         consent_sms, site_name, zone) in due:  # fmt: skip
        # A text when they agreed to texts, else an e-mail (the send-time checks still apply).
        sms = bool(phone) and consent_sms
        drafts.append(
            Draft(
                organization_id=org,
                person_id=person_id,
                lead_id=lead_id,
                lead_version=version,
                channel=MessageChannel.SMS if sms else MessageChannel.EMAIL,
                to=(phone if sms else email) or "",
                subject="Your study visit",
                body=_text(site_name, zone, starts_at),
                key=_key(code, hours),
            )
        )
    return drafts
