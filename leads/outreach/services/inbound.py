"""Inbound texts: what each one does for the people of that number, in that organization only.

- An opt-out keyword records the opt-out of every person of the organization with this number
  (a household shares a phone; the carrier takes the number out, so do we), with the message as
  evidence, and sends one confirmation: a second STOP from someone already out sends nothing.
- START / UNSTOP / YES alone, from the same number, lifts those opt-outs (recorded too).
- HELP / INFO / AYUDA is answered with the organization's contact.
- A reply that reads as a wish to stop pauses SMS to the person until the owner confirms.
- Every text shows on the person's latest lead's timeline; an unknown number is kept for review.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leads.models import ActivityKind, Direction, Lead, OptOut, Person
from leads.outreach.keywords import Intent, classify
from leads.outreach.models import InboundMessage, MessageChannel, OutreachSettings, Purpose
from leads.outreach.services.sending import message_queue
from leads.services.notices import notify_reply
from leads.services.people import person_record_opt_out
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.phones import e164
from trialsnest.lib.text import LINE_MAX, has_control_characters

SYSTEM = Actor(user=None)
BODY_MAX = 5000

OPT_OUT_CONFIRMATION = {
    "en": "{org}: you are unsubscribed and will get no more texts from us. Reply START to "
    "subscribe again.",
    "es": "{org}: se dio de baja y no recibirá más mensajes nuestros. Responda START para "
    "volver a suscribirse.",
}
OPT_IN_CONFIRMATION = {
    "en": "{org}: you are subscribed to texts again. Reply STOP to unsubscribe.",
    "es": "{org}: volverá a recibir mensajes. Responda ALTO para darse de baja.",
}
HELP_REPLY = {
    "en": "{org}: {contact} Reply STOP to unsubscribe.",
    "es": "{org}: {contact} Responda ALTO para darse de baja.",
}


def clean_body(body: str) -> str:
    if has_control_characters(body, multiline=True):
        body = "".join(c for c in body if c in "\n\t" or not has_control_characters(c))
    return body.strip()[:BODY_MAX]


def _latest_lead(person: Person) -> Lead | None:
    return (
        Lead.objects.filter(person=person)
        .select_related("study_site__site")
        # Open leads first (no closing time), then the latest.
        .order_by(F("closed_at").asc(nulls_first=True), "-received_at")
        .first()
    )


@transaction.atomic
def inbound_sms_receive(
    *,
    organization_id: int,
    from_number: str,
    body: str,
    to_number: str = "",
    provider_id: str = "",
    received_at: datetime | None = None,
) -> InboundMessage:
    """Keep one inbound text of this organization and act on it. A provider's retry (the same
    provider id) returns the message kept the first time and does nothing again."""
    provider_id = provider_id.strip()[:100]
    if provider_id:
        known = InboundMessage.objects.filter(
            organization_id=organization_id, provider_id=provider_id
        ).first()
        if known is not None:
            return known
    received_at = received_at or timezone.now()
    body = clean_body(body)
    number = e164(from_number) or from_number.strip()[:40]
    intent = Intent(classify(body))
    people_of_number = Person.objects.filter(
        organization_id=organization_id, phone=number, merged_into__isnull=True
    ).order_by("id")
    if intent in (Intent.OPT_OUT, Intent.OPT_IN):
        # Two STOPs at once: the second waits and finds the first's opt-out (one confirmation).
        people_of_number = people_of_number.select_for_update()
    people = list(people_of_number)
    leads = {person.pk: _latest_lead(person) for person in people}
    first = people[0] if people else None
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                organization_id=organization_id,
                person=first,
                lead=leads[first.pk] if first else None,
                from_number=number,
                to_number=to_number.strip()[:40],
                body=body,
                provider_id=provider_id,
                intent=intent,
                received_at=received_at,
                needs_review=not people or intent == Intent.MAYBE_STOP,
            )
    except IntegrityError:  # the same provider id, at the same moment
        return InboundMessage.objects.get(organization_id=organization_id, provider_id=provider_id)
    audit_record(
        action="message.received",
        organization_id=organization_id,
        obj=message,
        changes={"intent": {"new": intent.value}, "known": {"new": bool(people)}},
    )
    for person in people:
        lead = leads[person.pk]
        if lead is not None:
            activity_add(
                lead,
                ActivityKind.MESSAGE,
                SYSTEM,
                received_at,
                channel=MessageChannel.SMS,
                direction=Direction.INBOUND,
                text=body,
                data={"inbound": str(message.code), "intent": intent.value},
            )
    if not people:
        return message
    notify_reply(
        [lead for lead in leads.values() if lead is not None],
        message.code,
        MessageChannel.SMS,
        intent.value,
    )
    if intent == Intent.OPT_OUT:
        _opt_out(message, people, leads)
    elif intent == Intent.OPT_IN:
        _opt_in(message, people, leads)
    elif intent == Intent.HELP:
        _reply(message, first, leads, Purpose.HELP, HELP_REPLY)
    return message


def _evidence(message: InboundMessage) -> str:
    text = " ".join(message.body.split())
    evidence = f"SMS from {message.from_number}: “{text}”"
    return evidence if len(evidence) <= LINE_MAX else evidence[: LINE_MAX - 2] + "…”"


def _opt_out(message: InboundMessage, people: list[Person], leads: dict[int, Lead | None]) -> None:
    in_force = set(
        OptOut.objects.filter(
            person__in=people, channel=MessageChannel.SMS, lifted_at__isnull=True
        ).values_list("person_id", flat=True)
    )
    newly = [p for p in people if p.pk not in in_force]
    for person in newly:
        person_record_opt_out(
            person=person,
            channel=MessageChannel.SMS,
            actor=SYSTEM,
            evidence=_evidence(message),
            at=message.received_at,
            lead=leads[person.pk],
        )
    if newly:
        _reply(message, newly[0], leads, Purpose.OPT_OUT_CONFIRMATION, OPT_OUT_CONFIRMATION)


def _opt_in(message: InboundMessage, people: list[Person], leads: dict[int, Lead | None]) -> None:
    entries = list(
        OptOut.objects.select_for_update().filter(
            person__in=people, channel=MessageChannel.SMS, lifted_at__isnull=True
        )
    )
    if not entries:
        return  # "yes" from someone never opted out is a reply
    lifted = {entry.person_id for entry in entries}
    OptOut.objects.filter(pk__in=[e.pk for e in entries]).update(
        lifted_at=message.received_at, lifted_evidence=_evidence(message)
    )
    for person in people:
        if person.pk not in lifted:
            continue
        person.consent_sms = True
        person.save(update_fields=["consent_sms", "updated_at"])
        audit_record(
            action="person.opted_in",
            organization_id=person.organization_id,
            obj=person,
            changes={"consent_sms": {"old": False, "new": True}},
            reason=_evidence(message),
        )
    person = next(p for p in people if p.pk in lifted)
    _reply(message, person, leads, Purpose.OPT_IN_CONFIRMATION, OPT_IN_CONFIRMATION)


def _reply(
    message: InboundMessage,
    person: Person | None,
    leads: dict[int, Lead | None],
    purpose: str,
    texts: dict[str, str],
) -> None:
    if person is None:
        return
    organization = message.lead.study_site.site.name if message.lead else ""
    contact = ""
    if purpose == Purpose.HELP:  # only HELP names the contact: confirmations read nothing
        settings = OutreachSettings.objects.filter(organization_id=message.organization_id)
        contact = str(settings.values_list("help_contact", flat=True).first() or "")
    contact = contact or "Reply to reach our team."
    language = "es" if person.preferred_language.startswith("es") else "en"
    message_queue(
        person=person,
        lead=leads.get(person.pk),
        channel=MessageChannel.SMS,
        body=texts[language].format(org=organization or "Research team", contact=contact),
        actor=SYSTEM,
        idempotency_key=f"{purpose}:{message.code}",
        purpose=purpose,
    )
