"""Answers to a person's own keyword text (the opt-out and opt-in confirmations, the HELP
reply), queued set-based for a batch of texts: carriers require them whatever the consent, so
the only check is that there is a number to answer (blocked_reason)."""

from __future__ import annotations

from dataclasses import dataclass

from leads.models import Lead, Person
from leads.outreach.models import MessageChannel, OutboundMessage, Purpose
from leads.outreach.services.sending import (
    DELIVER_TASK,
    blocked_reason,
    message_changes,
    message_entry,
)
from leads.services.timeline import activities_add
from trialsnest.audit.services import Actor, audit_record, audit_record_each
from trialsnest.ops.outbox import enqueue_swept

SYSTEM = Actor(user=None)
Status = OutboundMessage.Status

TEXTS: dict[str, dict[str, str]] = {
    Purpose.OPT_OUT_CONFIRMATION: {
        "en": "{org}: you are unsubscribed and will get no more texts from us. Reply START to "
        "subscribe again.",
        "es": "{org}: se dio de baja y no recibirá más mensajes nuestros. Responda START para "
        "volver a suscribirse.",
    },
    Purpose.OPT_IN_CONFIRMATION: {
        "en": "{org}: you are subscribed to texts again. Reply STOP to unsubscribe.",
        "es": "{org}: volverá a recibir mensajes. Responda ALTO para darse de baja.",
    },
    Purpose.HELP: {
        "en": "{org}: {contact} Reply STOP to unsubscribe.",
        "es": "{org}: {contact} Responda ALTO para darse de baja.",
    },
}


@dataclass(frozen=True)
class Answer:
    """One answer to the text `answering` (its code), for `person` (on `lead`'s timeline)."""

    person: Person
    lead: Lead | None
    purpose: str
    answering: str
    site: str = ""  # who answers: the site of the text's lead
    contact: str = ""  # HELP names the organization's contact

    def body(self) -> str:
        language = "es" if self.person.preferred_language.startswith("es") else "en"
        return TEXTS[self.purpose][language].format(
            org=self.site or "Research team", contact=self.contact or "Reply to reach our team."
        )


def answers_queue(answers: list[Answer]) -> list[OutboundMessage]:
    """Queue the answers of one organization's texts: the messages, their audit events and
    timeline lines, a statement of each for all of them, and each message's task after the
    commit. Call in the transaction that acted on the texts (it marks them acted on, so an
    answer's key, `purpose:text code`, is never queued twice)."""
    if not answers:
        return []
    messages = [
        OutboundMessage(
            organization_id=answer.person.organization_id,
            lead=answer.lead,
            person=answer.person,
            channel=MessageChannel.SMS,
            purpose=answer.purpose,
            idempotency_key=f"{answer.purpose}:{answer.answering}",
            to=answer.person.phone,
            body=answer.body(),
        )
        for answer in answers
    ]
    for message in messages:
        reason = blocked_reason(message)
        if reason:
            message.status, message.reason = Status.BLOCKED, reason
    messages = OutboundMessage.objects.bulk_create(messages)
    queued = [m for m in messages if m.status == Status.QUEUED]
    if queued:
        audit_record_each(
            action="message.queued",
            actor_id=None,
            organization_id=queued[0].organization_id,
            object_type="outboundmessage",
            changes=[(str(m.code), message_changes(m)) for m in queued],
        )
    for message in messages:
        if message.status != Status.QUEUED:  # kept with its reason (rare: no number)
            audit_record(
                action="message.queued", organization_id=message.organization_id, obj=message,
                changes=message_changes(message), reason=message.reason,
            )  # fmt: skip
    activities_add(message_entry(m, SYSTEM, text=m.body) for m in messages if m.lead)
    for message in queued:
        # The message row is its own outbox (messages_requeue_stale), as in message_queue.
        enqueue_swept(DELIVER_TASK, message.pk)
    return messages
