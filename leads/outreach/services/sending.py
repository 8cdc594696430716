"""Outbound messages: queued in the caller's transaction, checked and sent by a task.

The checks run when the message is queued (so the member sees a refusal at once) and again when
the task sends it, since consent, an opt-out or the clock may have changed in between. A
message goes exactly once: its row (unique idempotency key) is the claim; the task marks it
`sending` (committed) before it talks to the provider, so a second run finds it claimed. A
worker killed between that claim and the outcome leaves it sending: past SENDING_LEASE the beat
hands it to a task again, which sends it with the same provider idempotency key (an SMS) or the
same Message-ID (an e-mail), so the provider never sends it twice.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Activity, ActivityKind, Direction, Lead, Person
from leads.outreach.backends import Sms, SmsError, sms_backend
from leads.outreach.models import (
    KEYWORD_ANSWERS,
    InboundMessage,
    MessageChannel,
    OutboundMessage,
    OutreachSettings,
    Purpose,
)
from leads.outreach.quiet_hours import recipient_zones, window_opens
from leads.outreach.rendering import email_html
from leads.services.people import opted_out_of
from leads.services.timeline import activity_build
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import NOTE_MAX, check_text
from trialsnest.ops.outbox import enqueue, enqueue_swept

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
DELIVER_TASK = "leads.outreach.tasks.deliver_message"
SMS_MAX = 1600  # ten segments: the most a provider joins into one text
HELD_BATCH = 500
# A queued message still queued after this long lost its task (a crash between commit and
# publish): the beat sends it again (the task is safe to run twice).
STALE_QUEUED = timedelta(minutes=2)
# A message still sending this long after its claim lost its worker (a send takes seconds);
# OUTREACH_SENDING_LEASE_SECONDS changes it (the worker-kill test shortens it).
SENDING_LEASE = timedelta(minutes=2)


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "OUTREACH_SENDING_LEASE_SECONDS", 120))


def message_queue(
    *,
    person: Person,
    channel: str,
    body: str,
    actor: Actor,
    idempotency_key: str,
    lead: Lead | None = None,
    subject: str = "",
    purpose: str = Purpose.OUTREACH,
    template_version_id: int | None = None,
    calendar: str = "",
) -> OutboundMessage:
    """Queue one message (or return the one this key already made: a retry never sends
    twice). A message the checks refuse is kept, blocked, with the reason."""
    if channel not in MessageChannel.values:
        raise ValidationError({"channel": "Pick SMS or e-mail."})
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the message."})
    check_text(body, field="body", max_length=SMS_MAX if channel == "sms" else NOTE_MAX,
               multiline=True)  # fmt: skip
    if channel == MessageChannel.EMAIL and not subject.strip():
        raise ValidationError({"subject": "Give the e-mail a subject."})
    key = idempotency_key.strip()[:200]
    if not key:
        raise ValidationError("A message needs an idempotency key.")
    existing = _by_key(person.organization_id, key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                organization_id=person.organization_id,
                lead=lead,
                person=person,
                channel=channel,
                purpose=purpose,
                idempotency_key=key,
                to=_address(person, channel),
                subject=subject.strip(),
                body=body,
                calendar=calendar if channel == MessageChannel.EMAIL else "",
                template_version_id=template_version_id,
                created_by=actor.user,
            )
            reason = blocked_reason(message)
            if reason:
                message.status, message.reason = Status.BLOCKED, reason
                message.save(update_fields=["status", "reason"])
            _record(message, actor, "message.queued", text=body)
            if not reason:
                # The message row is its own outbox: messages_requeue_stale finds one whose
                # publish was lost, so while the broker answers no outbox row is written.
                enqueue_swept(DELIVER_TASK, message.pk)
    except IntegrityError:
        # The same key, queued at the same moment by another request: that one is the message.
        found = _by_key(person.organization_id, key)
        if found is None:
            raise
        return found
    return message


def _by_key(organization_id: int, key: str) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(
        organization_id=organization_id, idempotency_key=key
    ).first()


def _address(person: Person, channel: str) -> str:
    return person.phone if channel == MessageChannel.SMS else person.email


def sms_paused(person: Person) -> InboundMessage | None:
    """A reply of theirs that reads as a wish to stop, not yet confirmed or dismissed."""
    return InboundMessage.objects.filter(
        person=person,
        intent=InboundMessage.Intent.MAYBE_STOP,
        needs_review=True,
        reviewed_at__isnull=True,
    ).first()


def stop_waiting(person: Person) -> bool:
    """Whether a text from their number that asks to stop (a keyword, or words that read so)
    waits for the worker to act on it."""
    return InboundMessage.objects.filter(
        organization_id=person.organization_id,
        from_number=person.phone,
        channel=MessageChannel.SMS,
        processed_at__isnull=True,
        intent__in=[InboundMessage.Intent.OPT_OUT, InboundMessage.Intent.MAYBE_STOP],
    ).exists()


def blocked_reason(message: OutboundMessage) -> str:
    """Why this message may not go to this person on this channel ("" when it may)."""
    person = message.person
    channel = MessageChannel(message.channel)
    if not _address(person, channel):
        return f"No {'phone number' if channel == 'sms' else 'e-mail address'} on file."
    if message.purpose in KEYWORD_ANSWERS:
        return ""  # an answer to their own keyword: carriers require it
    if opted_out_of(person, channel):
        return f"Opted out of {channel.label}."
    if not person.consents_to(channel):
        return f"No consent to {channel.label}."
    if channel == MessageChannel.SMS:
        if stop_waiting(person):
            return "Their text asking to stop is being recorded."
        pause = sms_paused(person)
        if pause is not None:
            return (
                f"SMS paused: their reply of {pause.received_at:%Y-%m-%d} reads as a wish to "
                "stop, and the owner has not confirmed yet."
            )
    return ""


def _zones(message: OutboundMessage) -> tuple[str, ...]:
    site_zone = message.lead.study_site.site.timezone if message.lead else ""
    return recipient_zones(
        postal_code=message.person.postal_code, phone=message.person.phone, site_zone=site_zone
    )


def message_deliver(*, message_id: int) -> str:
    """Check and send a queued (or held and now due) message; returns its status. Safe to run
    twice: anything but a due message is left as it is."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("person", "lead__study_site__site")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "missing"
        due = (
            message.status == Status.QUEUED
            or (message.status == Status.HELD and message.hold_until and message.hold_until <= now)
            or (
                message.status == Status.SENDING
                and message.claimed_at is not None
                and message.claimed_at <= now - _lease()
            )
        )
        if not due:
            return message.status
        message.to = _address(message.person, message.channel)
        reason = blocked_reason(message)
        if reason:
            return settle(message, Status.BLOCKED, reason=reason)
        zones = _zones(message)
        opens = window_opens(now, zones) if message.purpose not in KEYWORD_ANSWERS else None
        if opens is not None:
            local = opens.astimezone(zoneinfo.ZoneInfo(zones[0]))
            return settle(
                message,
                Status.HELD,
                reason=f"Quiet hours where they are ({', '.join(zones)}): goes at "
                f"{local:%Y-%m-%d %H:%M} {zones[0]}.",
                hold_until=opens,
            )
        message.status, message.reason, message.hold_until = Status.SENDING, "", None
        message.claimed_at = now
        message.save(update_fields=["status", "reason", "hold_until", "to", "claimed_at"])
    try:
        provider_id = _send(message)
    except (SmsError, OSError) as exc:
        logger.warning("Message %s failed: %s", message.code, type(exc).__name__)
        with transaction.atomic():
            return settle(message, Status.FAILED, reason=str(exc)[:300] or type(exc).__name__)
    with transaction.atomic():
        return settle(message, Status.SENT, provider_id=provider_id, sent_at=timezone.now())


def _send(message: OutboundMessage) -> str:
    if message.channel == MessageChannel.SMS:
        settings = OutreachSettings.objects.filter(organization_id=message.organization_id).first()
        if settings is None or not settings.sms_number:
            raise SmsError("The organization has no SMS number (outreach settings).")
        sms = Sms(to=message.to, from_=settings.sms_number, body=message.body, key=_key(message))
        return sms_backend().send(sms)
    # The same Message-ID on a retry: mail systems take a repeat of it as the same e-mail.
    message_id = f"<{_key(message)}@trialsnest>"
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body, to=[message.to],
        headers={"Message-ID": message_id},
    )  # fmt: skip
    email.attach_alternative(email_html(message.body), "text/html")
    if message.calendar:
        # METHOD:CANCEL tells the calendar client to drop the event it has; REQUEST adds or
        # updates it (same UID, higher SEQUENCE).
        method = "CANCEL" if "\nMETHOD:CANCEL" in message.calendar else "REQUEST"
        email.attach(
            "visit.ics",
            message.calendar.encode(),
            f'text/calendar; charset="utf-8"; method={method}',
        )
    email.send()
    # A provider backend (django-anymail) reports its own id, which its webhooks name.
    status = getattr(email, "anymail_status", None)
    return str(getattr(status, "message_id", None) or message_id)


def _key(message: OutboundMessage) -> str:
    """The provider's idempotency key of this message: its code (the same on every retry)."""
    return f"tn-{message.code}"


# A provider's delivery report (Twilio's MessageStatus) and what it makes of a sent message.
DELIVERY_REPORTS = {
    "delivered": Status.DELIVERED,
    "undelivered": Status.FAILED,
    "failed": Status.FAILED,
}


@transaction.atomic
def message_delivery_report(*, provider_id: str, report: str, error: str = "") -> str | None:
    """The provider says what became of a sent message; None when no message has this id.
    Reports of other states (queued, sent...) and repeats change nothing."""
    message = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("lead")
        .filter(provider_id=provider_id, channel=MessageChannel.SMS)
        .exclude(provider_id="")
        .first()
    )
    if message is None:
        return None
    status = DELIVERY_REPORTS.get(report)
    if status is None or message.status not in (Status.SENT, Status.SENDING):
        return message.status
    reason = f"The carrier reports {report}" + (f" (error {error})." if error else ".")
    return settle(message, status, reason="" if status == Status.DELIVERED else reason)


def settle(message: OutboundMessage, status: str, **fields: Any) -> str:
    """Record the outcome: the message, its audit row and a line on the lead's timeline."""
    message.status = status
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=["status", "to", *fields])
    _record(message, Actor(user=None), f"message.{status}")
    return status


def _record(message: OutboundMessage, actor: Actor, action: str, text: str = "") -> None:
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=message.organization_id,
        obj=message,
        changes=message_changes(message),
        reason=message.reason,
        request=actor.request,
    )
    if message.lead is not None:
        message_entry(message, actor, text).save(force_insert=True)


def message_changes(message: OutboundMessage) -> dict[str, Any]:
    """What a message's audit event records of it."""
    return {
        "channel": {"new": message.channel},
        "status": {"new": message.status},
        "purpose": {"new": message.purpose},
    }


def message_entry(message: OutboundMessage, actor: Actor, text: str = "") -> Activity:
    """The line a message puts on its lead's timeline (unsaved)."""
    assert message.lead is not None
    return activity_build(
        message.lead,
        ActivityKind.MESSAGE,
        actor,
        timezone.now(),
        channel=message.channel,
        direction=Direction.OUTBOUND,
        text=text,
        data={
            "message": str(message.code),
            "status": message.status,
            "reason": message.reason,
            "purpose": message.purpose,
        },
    )


def held_messages_release(*, now: datetime | None = None, limit: int = HELD_BATCH) -> int:
    """Beat: held messages whose window has opened go back to the queue, set-based, each
    queued for the task once (the outbox row is written with the status change)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(status=Status.HELD, hold_until__lte=now)
            .order_by("hold_until")
            .values_list("id", flat=True)[:limit]
        )
        OutboundMessage.objects.filter(pk__in=ids).update(status=Status.QUEUED, hold_until=None)
        for message_id in ids:
            enqueue(DELIVER_TASK, message_id)
    return len(ids)


def messages_resume_sending(*, now: datetime | None = None, limit: int = HELD_BATCH) -> int:
    """Beat: messages claimed (sending) longer than SENDING_LEASE ago lost their worker between
    the claim and the outcome; each goes to a task again, which retries it with the same key."""
    now = now or timezone.now()
    ids = list(
        OutboundMessage.objects.filter(status=Status.SENDING, claimed_at__lte=now - _lease())
        .order_by("claimed_at")
        .values_list("id", flat=True)[:limit]
    )
    for message_id in ids:
        enqueue_swept(DELIVER_TASK, message_id)
    return len(ids)


def messages_requeue_stale(*, now: datetime | None = None, limit: int = HELD_BATCH) -> int:
    """Beat: queued messages whose task never came (its publish was lost) are queued again."""
    now = now or timezone.now()
    ids = list(
        OutboundMessage.objects.filter(status=Status.QUEUED, created_at__lt=now - STALE_QUEUED)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for message_id in ids:
        enqueue_swept(DELIVER_TASK, message_id)
    return len(ids)
