"""Inbound texts: what each one does for the people of that number, in that organization only.

- An opt-out keyword records the opt-out of every person of the organization with this number
  (a household shares a phone; the carrier takes the number out, so do we), with the message as
  evidence, and sends one confirmation: a second STOP from someone already out sends nothing.
- START / UNSTOP / YES alone, from the same number, lifts those opt-outs (recorded too).
- HELP / INFO / AYUDA is answered with the organization's contact.
- A reply that reads as a wish to stop pauses SMS to the person until the owner confirms.
- Every text shows on the person's latest lead's timeline; an unknown number is kept for review.

The webhook only keeps the text, read for its intent, with its audit event, in one statement
(inbound_sms_receive), and queues a task after the commit. The worker acts on the texts waiting
(inbound_sms_process): one worker at a time per organization, in batches, each batch set-based
(a statement per kind of write for all its texts, not a round of them per text) and in one
transaction with the texts marked acted on. A number's texts are acted on in the order they
came. Until its STOP is acted on, no text goes to that number (blocked_reason).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from leads.models import Activity, ActivityKind, Direction, Lead, OptOut, Person
from leads.outreach.keywords import Intent, classify
from leads.outreach.models import InboundMessage, MessageChannel, OutreachSettings, Purpose
from leads.outreach.services.answers import SYSTEM, Answer, answers_queue
from leads.services.notices import reply_notices
from leads.services.people import people_record_opt_out
from leads.services.timeline import activities_add, activity_build
from trialsnest.audit.services import audit_insert, audit_record, audit_record_each
from trialsnest.lib.breaker import redis_breaker
from trialsnest.lib.db import advisory_lock
from trialsnest.lib.phones import e164
from trialsnest.lib.text import LINE_MAX, has_control_characters
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.ops.outbox import enqueue_swept

logger = logging.getLogger(__name__)

BODY_MAX = 5000
BATCH = 500
PROCESS_TASK = "leads.outreach.tasks.process_inbound_sms"
# A text still waiting this long lost its task (a crash between commit and publish).
STALE_WAITING = timedelta(minutes=1)
# How long a queued task's mark holds off queueing another (seconds).
QUEUED_MARK = 60


def clean_body(body: str) -> str:
    if has_control_characters(body, multiline=True):
        body = "".join(c for c in body if c in "\n\t" or not has_control_characters(c))
    return body.strip()[:BODY_MAX]


# Kept, with its audit event; nothing on a provider's retry (the same provider id).
_KEEP = f"""
    WITH kept AS (
        INSERT INTO leads_inboundmessage
            (code, organization_id, channel, from_number, to_number, body, provider_id, intent,
             received_at, needs_review)
        VALUES (gen_random_uuid(), %(org)s, 'sms', %(from)s, %(to)s, %(body)s, %(provider)s,
                %(intent)s, %(at)s, false)
        ON CONFLICT (organization_id, provider_id) WHERE provider_id <> '' DO NOTHING
        RETURNING id, code, organization_id
    ),
    audit AS ({
    audit_insert('''
        SELECT %(at)s, NULL, organization_id, 'message.received', 'inboundmessage', code::text,
               jsonb_build_object('intent', jsonb_build_object('new', %(intent)s::text)), '', NULL
        FROM kept''')
})
    SELECT id, code FROM kept
"""  # noqa: S608 (constants, no input)


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
    """Keep one inbound text of this organization, to be acted on by a worker. A provider's
    retry (the same provider id) returns the message kept the first time and keeps nothing."""
    provider_id = provider_id.strip()[:100]
    message = InboundMessage(
        organization_id=organization_id,
        channel=MessageChannel.SMS,
        from_number=e164(from_number) or from_number.strip()[:40],
        to_number=to_number.strip()[:40],
        body=clean_body(body),
        provider_id=provider_id,
        received_at=received_at or timezone.now(),
    )
    message.intent = Intent(classify(message.body))
    with connection.cursor() as cursor:
        cursor.execute(
            _KEEP,
            {
                "org": organization_id, "from": message.from_number, "to": message.to_number,
                "body": message.body, "provider": provider_id, "intent": message.intent,
                "at": message.received_at,
            },
        )  # fmt: skip
        kept = cursor.fetchone()
    if kept is None:  # the same provider id: that text
        return InboundMessage.objects.get(organization_id=organization_id, provider_id=provider_id)
    message.pk, message.code = kept
    transaction.on_commit(lambda: _queue_task(organization_id, message.pk))
    return message


def _queued(organization_id: int) -> str:
    return f"inbound-sms:queued:{organization_id}"


def _queue_task(organization_id: int, message_id: int) -> None:
    """Queue the worker's task, unless one is queued for the organization and not started yet:
    that one will find this text too (it clears the mark before it reads what waits). One task
    for a burst of texts, not one a text. A lost task leaves the mark for QUEUED_MARK at most;
    the beat finds its texts. With Redis down (or failing just now) the task waits in the
    outbox, as every task does."""
    marked = redis_breaker.available() and cache.add(_queued(organization_id), 1, QUEUED_MARK)
    if not marked and redis_breaker.available():  # not a failure: the mark is there
        return
    enqueue_swept(PROCESS_TASK, message_id)


def inbound_sms_process(*, message_id: int) -> int:
    """Act on the texts waiting in this text's organization (this one among them, unless a
    batch took it already), batch after batch; returns how many were acted on. Safe to run
    twice and at once: a text acted on is marked so in the same transaction, and the workers of
    one organization take turns."""
    organization_id = (
        InboundMessage.objects.filter(pk=message_id)
        .values_list("organization_id", flat=True)
        .first()
    )
    if organization_id is None:
        return 0
    cache.delete(_queued(organization_id))  # texts from now on queue a task again
    done, more, size = 0, True, BATCH
    while more:
        try:
            count, more = _process_batch(organization_id, size)
        except DatabaseError:
            raise  # the task retries
        except Exception:
            if size > 1:  # find the text that fails: the next batches are of one text
                size = 1
                continue
            # That text must not hold up the others: a person looks at it.
            logger.exception("An inbound text could not be acted on: it waits for review")
            _set_aside(organization_id)
            count, more, size = 0, True, BATCH
        done += count
    return done


@transaction.atomic
def _set_aside(organization_id: int) -> None:
    advisory_lock(f"inbound-sms:{organization_id}")
    first = (
        InboundMessage.objects.filter(
            organization_id=organization_id, processed_at__isnull=True, channel=MessageChannel.SMS
        )
        .order_by("id")
        .first()
    )
    if first is None:
        return
    first.processed_at, first.needs_review = timezone.now(), True
    first.save(update_fields=["processed_at", "needs_review"])
    audit_record(
        action="message.set_aside",
        organization_id=organization_id,
        obj=first,
        changes={"needs_review": {"new": True}},
        reason="It could not be acted on (logged): a person looks at it.",
    )


def inbound_requeue_waiting(*, now: datetime | None = None) -> int:
    """Beat: organizations with a text waiting past STALE_WAITING (its task never came) get a
    task again, one each."""
    now = now or timezone.now()
    ids = list(
        InboundMessage.objects.filter(
            processed_at__isnull=True, channel=MessageChannel.SMS,
            received_at__lt=now - STALE_WAITING,
        )
        .order_by("organization_id", "id")
        .distinct("organization_id")
        .values_list("id", flat=True)
    )  # fmt: skip
    for message_id in ids:
        enqueue_swept(PROCESS_TASK, message_id)
    return len(ids)


@transaction.atomic
def _process_batch(organization_id: int, size: int = BATCH) -> tuple[int, bool]:
    """Act on a batch of the organization's texts waiting: how many, and whether more wait."""
    advisory_lock(f"inbound-sms:{organization_id}")
    waiting = list(
        InboundMessage.objects.filter(
            organization_id=organization_id, processed_at__isnull=True, channel=MessageChannel.SMS
        ).order_by("id")[:size]
    )
    batch: dict[str, InboundMessage] = {}
    for message in waiting:  # a number's later text waits for the next batch
        batch.setdefault(message.from_number, message)
    if not batch:
        return 0, False
    people: dict[str, list[Person]] = {}
    for person in Person.objects.filter(
        organization_id=organization_id, phone__in=list(batch), merged_into__isnull=True
    ).order_by("id"):
        people.setdefault(person.phone, []).append(person)
    ids = [p.pk for group in people.values() for p in group]
    in_force: set[int] = set()
    if any(message.intent == Intent.OPT_OUT for message in batch.values()):
        in_force = set(
            OptOut.objects.filter(
                person_id__in=ids, channel=MessageChannel.SMS, lifted_at__isnull=True
            ).values_list("person_id", flat=True)
        )
    acting = _Acting(organization_id, _latest_leads(ids), in_force)
    for number, message in batch.items():
        acting.take(message, people.get(number, []))
    acting.write(list(batch.values()))
    return len(batch), len(waiting) == size or len(waiting) > len(batch)


def _latest_leads(person_ids: list[int]) -> dict[int, Lead]:
    """Each person's open lead (the latest if several), else their latest closed one."""
    return {
        lead.person_id: lead
        for lead in Lead.objects.filter(person_id__in=person_ids)
        .select_related("study_site__site")
        .order_by("person_id", F("closed_at").asc(nulls_first=True), "-received_at")
        .distinct("person_id")
    }


class _Acting:
    """What a batch of texts does, gathered text by text and written set-based."""

    def __init__(self, organization_id: int, leads: dict[int, Lead], in_force: set[int]) -> None:
        self.organization_id, self.leads = organization_id, leads
        self.in_force = in_force  # the people whose SMS opt-out is in force
        self.entries: list[Activity] = []
        self.notices: list[Notice] = []
        self.opting_out: list[tuple[Person, Lead | None, str, datetime]] = []
        self.answers: list[Answer] = []
        self._contact: str | None = None

    def take(self, message: InboundMessage, people: list[Person]) -> None:
        first = people[0] if people else None
        message.person = first
        message.lead = self.leads.get(first.pk) if first else None
        message.needs_review = not people or message.intent == Intent.MAYBE_STOP
        own = [lead for p in people if (lead := self.leads.get(p.pk)) is not None]
        self.entries += [
            activity_build(
                lead, ActivityKind.MESSAGE, SYSTEM, message.received_at,
                channel=MessageChannel.SMS, direction=Direction.INBOUND, text=message.body,
                data={"inbound": str(message.code), "intent": message.intent},
            )
            for lead in own
        ]  # fmt: skip
        if not people:
            return
        self.notices += reply_notices(own, message.code, MessageChannel.SMS, message.intent)
        if message.intent == Intent.OPT_OUT:
            self._opt_out(message, people)
        elif message.intent == Intent.OPT_IN:
            self._opt_in(message, people)
        elif message.intent == Intent.HELP:
            self._answer(message, first, Purpose.HELP)

    def _opt_out(self, message: InboundMessage, people: list[Person]) -> None:
        newly = [p for p in people if p.pk not in self.in_force]
        self.opting_out += [
            (p, self.leads.get(p.pk), _evidence(message), message.received_at) for p in newly
        ]
        if newly:
            self._answer(message, newly[0], Purpose.OPT_OUT_CONFIRMATION)

    def _opt_in(self, message: InboundMessage, people: list[Person]) -> None:
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
        self._answer(message, person, Purpose.OPT_IN_CONFIRMATION)

    def _answer(self, message: InboundMessage, person: Person | None, purpose: str) -> None:
        if person is None:
            return
        site = message.lead.study_site.site.name if message.lead else ""
        contact = self.contact() if purpose == Purpose.HELP else ""  # only HELP names it
        self.answers.append(
            Answer(person, self.leads.get(person.pk), purpose, str(message.code), site, contact)
        )

    def contact(self) -> str:
        if self._contact is None:
            settings = OutreachSettings.objects.filter(organization_id=self.organization_id)
            self._contact = str(settings.values_list("help_contact", flat=True).first() or "")
        return self._contact

    def write(self, messages: list[InboundMessage]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE leads_inboundmessage AS m
                   SET person_id = v.person, lead_id = v.lead, needs_review = v.review,
                       processed_at = %(now)s
                   FROM unnest(%(ids)s::bigint[], %(people)s::bigint[], %(leads)s::bigint[],
                               %(reviews)s::boolean[]) AS v(id, person, lead, review)
                   WHERE m.id = v.id""",
                {
                    "now": timezone.now(),
                    "ids": [m.pk for m in messages],
                    "people": [m.person_id for m in messages],
                    "leads": [m.lead_id for m in messages],
                    "reviews": [m.needs_review for m in messages],
                },
            )
        audit_record_each(
            action="message.matched",
            actor_id=None,
            organization_id=self.organization_id,
            object_type="inboundmessage",
            changes=[(str(m.code), {"known": {"new": m.person_id is not None}}) for m in messages],
        )
        activities_add(self.entries)  # the texts first, then what they caused
        people_record_opt_out(opting_out=self.opting_out, channel=MessageChannel.SMS, actor=SYSTEM)
        answers_queue(self.answers)
        notify_many(self.notices)


def _evidence(message: InboundMessage) -> str:
    text = " ".join(message.body.split())
    evidence = f"SMS from {message.from_number}: “{text}”"
    return evidence if len(evidence) <= LINE_MAX else evidence[: LINE_MAX - 2] + "…”"
