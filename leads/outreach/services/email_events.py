"""What the e-mail provider tells us after a send (django-anymail's normalized webhooks).

- A tracking event (delivered, bounced, rejected, failed, complained, unsubscribed) updates the
  message it is about, found by the provider's message id recorded at send time. A complaint or
  an unsubscribe is an opt-out of e-mail, with the event as evidence.
- An inbound e-mail is a reply when its In-Reply-To or References names one of our messages:
  it is kept with the person and lead of that message, shows on the lead's timeline, and an
  opt-out keyword opening it ("Unsubscribe", "STOP, please") opts them out of e-mail. A reply
  that reads as a wish to stop, or one we cannot place, waits on the Replies page.

Each is safe to receive twice: a provider's retry changes nothing more.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from leads.models import ActivityKind, Direction, OptOut
from leads.outreach.keywords import Intent, classify
from leads.outreach.models import InboundMessage, MessageChannel, OutboundMessage
from leads.outreach.services.answers import SYSTEM
from leads.outreach.services.inbound import BODY_MAX, clean_body
from leads.outreach.services.sending import settle
from leads.services.notices import notify_reply
from leads.services.people import person_record_opt_out
from leads.services.timeline import activity_add
from trialsnest.audit.services import audit_record
from trialsnest.lib.text import LINE_MAX

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
# anymail's normalized event types and what each makes of a sent e-mail.
DELIVERY_EVENTS = {
    "delivered": Status.DELIVERED,
    "bounced": Status.FAILED,
    "rejected": Status.FAILED,
    "failed": Status.FAILED,
}
OPT_OUT_EVENTS = ("complained", "unsubscribed")
# Where a reply's own words end: the quoted message below it.
QUOTE_START = re.compile(r"^(>|On .+ wrote:$|El .+ escribió:$|-----Original Message-----)", re.M)


def _message(provider_id: str) -> OutboundMessage | None:
    provider_id = provider_id.strip()
    if not provider_id:
        return None
    candidates = {provider_id, provider_id.strip("<>"), f"<{provider_id.strip('<>')}>"}
    return (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("person", "lead")
        .filter(channel=MessageChannel.EMAIL, provider_id__in=candidates)
        .first()
    )


@transaction.atomic
def email_tracking_event(*, provider_id: str, event: str, description: str = "") -> str | None:
    """The provider reports what became of a sent e-mail; None when it is none of ours."""
    message = _message(provider_id)
    if message is None:
        return None
    if event in OPT_OUT_EVENTS:
        in_force = OptOut.objects.filter(
            person=message.person, channel=MessageChannel.EMAIL, lifted_at__isnull=True
        ).exists()
        if not in_force:
            person_record_opt_out(
                person=message.person,
                channel=MessageChannel.EMAIL,
                actor=SYSTEM,
                evidence=f"The e-mail provider reports: {event}"[:LINE_MAX],
                lead=message.lead,
            )
        return message.status
    status = DELIVERY_EVENTS.get(event)
    if status is None or message.status not in (Status.SENT, Status.SENDING):
        return message.status
    reason = "" if status == Status.DELIVERED else f"The e-mail provider reports {event}"
    if reason and description:
        reason = f"{reason}: {description}"
    return settle(message, status, reason=reason[:300])


def own_words(text: str) -> str:
    """The reply without the message it quotes."""
    match = QUOTE_START.search(text)
    return (text[: match.start()] if match else text).strip()


@transaction.atomic
def email_reply_receive(
    *,
    from_address: str,
    text: str,
    replied_to: list[str],
    provider_id: str = "",
    received_at: datetime | None = None,
) -> InboundMessage | None:
    """Keep an inbound e-mail that answers one of our messages; None when it answers none
    (logged: there is no organization to keep it for)."""
    original = next((m for m in map(_message, replied_to) if m is not None), None)
    if original is None:
        logger.warning("An inbound e-mail answers none of our messages: not kept.")
        return None
    organization_id = original.organization_id
    provider_id = provider_id.strip()[:100]
    if provider_id:
        known = InboundMessage.objects.filter(
            organization_id=organization_id, provider_id=provider_id
        ).first()
        if known is not None:
            return known
    received_at = received_at or timezone.now()
    body = clean_body(own_words(text))[:BODY_MAX]
    intent = Intent(classify(body))
    if intent in (Intent.OPT_IN, Intent.HELP):
        intent = Intent.REPLY  # e-mail has no keyword service: "yes" or "info" is a reply
    person, lead = original.person, original.lead
    message = InboundMessage.objects.create(
        organization_id=organization_id,
        person=person,
        lead=lead,
        channel=MessageChannel.EMAIL,
        from_number=from_address.strip()[:254],
        body=body,
        provider_id=provider_id,
        intent=intent,
        received_at=received_at,
        needs_review=intent == Intent.MAYBE_STOP,
        processed_at=received_at,  # acted on here and now
    )
    audit_record(
        action="message.received",
        organization_id=organization_id,
        obj=message,
        changes={"intent": {"new": intent.value}, "channel": {"new": "email"}},
    )
    if lead is not None:
        activity_add(
            lead,
            ActivityKind.MESSAGE,
            SYSTEM,
            received_at,
            channel=MessageChannel.EMAIL,
            direction=Direction.INBOUND,
            text=body,
            data={"inbound": str(message.code), "intent": intent.value},
        )
        notify_reply([lead], message.code, MessageChannel.EMAIL, intent.value)
    if (
        intent == Intent.OPT_OUT
        and not OptOut.objects.filter(
            person=person, channel=MessageChannel.EMAIL, lifted_at__isnull=True
        ).exists()
    ):
        quoted = " ".join(body.split())
        evidence = f"E-mail reply: “{quoted}”"
        if len(evidence) > LINE_MAX:
            evidence = evidence[: LINE_MAX - 2] + "…”"
        person_record_opt_out(
            person=person,
            channel=MessageChannel.EMAIL,
            actor=SYSTEM,
            evidence=evidence,
            at=received_at,
            lead=lead,
        )
    return message
