"""A person looks at an inbound text the app could not act on alone: a reply that reads as a
wish to stop (SMS to them is paused meanwhile), or a text from an unknown number."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.outreach.models import InboundMessage, MessageChannel
from leads.services.people import opted_out_of, person_record_opt_out
from trialsnest.audit.services import Actor, audit_record


@transaction.atomic
def inbound_review(*, message: InboundMessage, opt_out: bool, actor: Actor) -> InboundMessage:
    """Close the review: with `opt_out`, the person is opted out of SMS with the text as
    evidence; without, SMS to them resumes."""
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.reviewed_at is not None:
        raise ValidationError("Someone has already reviewed this message.")
    if opt_out and message.person is None:
        raise ValidationError("An unknown number has nobody to opt out.")
    message.reviewed_at, message.reviewed_by = timezone.now(), actor.user
    message.save(update_fields=["reviewed_at", "reviewed_by"])
    person = message.person
    if opt_out and person is not None and not opted_out_of(person, MessageChannel.SMS):
        body = " ".join(message.body.split())[:400]
        person_record_opt_out(
            person=person,
            channel=MessageChannel.SMS,
            actor=actor,
            evidence=f"Confirmed by staff from the reply “{body}”",
            lead=message.lead,
        )
    audit_record(
        action="message.reviewed",
        actor=actor.user,
        organization_id=message.organization_id,
        obj=message,
        changes={"opt_out": {"new": opt_out}},
        request=actor.request,
    )
    return message
