"""The webhook keeps a text and answers; the worker acts on the texts waiting, in batches:
set-based (the same statements for 3 texts as for 30), a number's texts in the order they came,
safe to run twice, found again by the beat when their task was lost, and no text goes to a
number whose STOP is still waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import OptOut
from leads.outreach.models import InboundMessage, OutboundMessage, Purpose
from leads.outreach.services.inbound import (
    inbound_requeue_waiting,
    inbound_sms_process,
    inbound_sms_receive,
)
from leads.outreach.services.sending import message_queue
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.conftest import actor_of
from trialsnest.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _stops(world: World, count: int, first: int) -> list[InboundMessage]:
    texts = []
    for n in range(first, first + count):
        phone = f"+1312555{n:04d}"
        new_lead(study_site=world.study_site_a, person__phone=phone)
        texts.append(
            inbound_sms_receive(organization_id=world.org_a.pk, from_number=phone, body="STOP")
        )
    return texts


def test_the_webhook_keeps_the_text_and_a_worker_records_the_opt_out(world: World, sms_lead):
    text = inbound_sms_receive(
        organization_id=world.org_a.pk, from_number=sms_lead.person.phone, body="Stop please"
    )

    kept = InboundMessage.objects.get(pk=text.pk)
    assert (kept.intent, kept.processed_at, kept.person_id) == ("opt_out", None, None)
    assert AuditEvent.objects.filter(action="message.received", object_id=str(text.code)).exists()
    assert not OptOut.objects.filter(person=sms_lead.person).exists()

    assert inbound_sms_process(message_id=text.pk) == 1

    kept.refresh_from_db()
    assert kept.processed_at is not None
    assert kept.person_id == sms_lead.person_id
    [entry] = OptOut.objects.filter(person=sms_lead.person, channel="sms")
    assert "Stop please" in entry.evidence
    assert OutboundMessage.objects.filter(purpose=Purpose.OPT_OUT_CONFIRMATION).count() == 1
    assert inbound_sms_process(message_id=text.pk) == 0  # a second run changes nothing
    assert OptOut.objects.filter(person=sms_lead.person).count() == 1
    assert OutboundMessage.objects.filter(purpose=Purpose.OPT_OUT_CONFIRMATION).count() == 1


def test_nothing_is_texted_to_a_number_whose_stop_waits(world: World, sms_lead):
    inbound_sms_receive(
        organization_id=world.org_a.pk, from_number=sms_lead.person.phone, body="STOP"
    )

    message = message_queue(
        person=sms_lead.person, lead=sms_lead, channel="sms", body="Your visit is tomorrow.",
        actor=actor_of(world, "coordinator"), idempotency_key="reminder-1",
    )  # fmt: skip

    assert message.status == OutboundMessage.Status.BLOCKED
    assert "asking to stop" in message.reason


def test_a_batch_is_set_based_the_same_statements_for_3_texts_as_for_30(world: World, outreach):
    statements = []
    for count, first in ((3, 100), (30, 200)):
        texts = _stops(world, count, first)
        with CaptureQueriesContext(connection) as batch:
            assert inbound_sms_process(message_id=texts[-1].pk) == count  # all that wait
        statements.append([q["sql"].split(" ")[0] for q in batch.captured_queries])

        assert not InboundMessage.objects.filter(processed_at__isnull=True).exists()
        assert (
            OptOut.objects.filter(person__phone__in=[t.from_number for t in texts]).count() == count
        )
        confirmations = OutboundMessage.objects.filter(purpose=Purpose.OPT_OUT_CONFIRMATION)
        assert confirmations.filter(to__in=[t.from_number for t in texts]).count() == count

    # A statement per kind of write for the whole batch, not a round of them per text.
    assert statements[0] == statements[1]
    assert len(statements[1]) <= 18  # with the savepoints of the test's own transaction


def test_a_numbers_texts_are_acted_on_in_the_order_they_came(world: World, sms_lead):
    phone = sms_lead.person.phone
    stop = inbound_sms_receive(organization_id=world.org_a.pk, from_number=phone, body="STOP")
    inbound_sms_receive(organization_id=world.org_a.pk, from_number=phone, body="START")

    assert inbound_sms_process(message_id=stop.pk) == 2

    [entry] = OptOut.objects.filter(person=sms_lead.person)
    assert entry.lifted_at is not None  # out, then back in
    sms_lead.person.refresh_from_db()
    assert sms_lead.person.consent_sms is True
    purposes = list(OutboundMessage.objects.order_by("id").values_list("purpose", flat=True))
    assert purposes == [Purpose.OPT_OUT_CONFIRMATION, Purpose.OPT_IN_CONFIRMATION]


def test_the_beat_finds_a_text_whose_task_was_lost(
    world: World, sms_lead, django_capture_on_commit_callbacks
):
    text = inbound_sms_receive(
        organization_id=world.org_a.pk, from_number=sms_lead.person.phone, body="STOP"
    )

    assert inbound_requeue_waiting(now=text.received_at + timedelta(seconds=10)) == 0
    with django_capture_on_commit_callbacks(execute=True):  # its task runs (eager in tests)
        assert inbound_requeue_waiting(now=text.received_at + timedelta(minutes=2)) == 1

    assert OptOut.objects.filter(person=sms_lead.person).count() == 1
    assert inbound_requeue_waiting(now=text.received_at + timedelta(minutes=3)) == 0


def test_a_text_that_cannot_be_acted_on_waits_for_review_without_holding_up_the_others(
    world: World, outreach, monkeypatch
):
    from leads.services.people import people_record_opt_out as record

    texts = _stops(world, 3, 400)

    def failing_for_the_second(*, opting_out, **kwargs):
        if any(person.phone == texts[1].from_number for person, *_ in opting_out):
            raise ValueError("a fault in acting on that text")
        return record(opting_out=opting_out, **kwargs)

    monkeypatch.setattr(
        "leads.outreach.services.inbound.people_record_opt_out", failing_for_the_second
    )

    assert inbound_sms_process(message_id=texts[0].pk) == 2

    acted = {t.pk: InboundMessage.objects.get(pk=t.pk) for t in texts}
    assert all(m.processed_at is not None for m in acted.values())
    assert acted[texts[1].pk].needs_review is True  # a person looks at it
    opted_out = set(OptOut.objects.values_list("person__phone", flat=True))
    assert opted_out == {texts[0].from_number, texts[2].from_number}


def test_a_burst_of_texts_queues_one_task_until_it_starts(
    world: World, sms_lead, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from leads.outreach.services.inbound import _queue_task, _queued

    cache.delete(_queued(world.org_a.pk))  # (an earlier run's database had the same ids)
    texts = _stops(world, 3, 500)
    with django_capture_on_commit_callbacks() as published:
        for text in texts:
            _queue_task(world.org_a.pk, text.pk)
    assert len(published) == 1  # the queued task will find all three

    assert inbound_sms_process(message_id=texts[0].pk) == 3
    with django_capture_on_commit_callbacks() as published:
        _queue_task(world.org_a.pk, texts[0].pk)
    assert len(published) == 1  # the task started: the next text queues one again
    cache.delete(_queued(world.org_a.pk))
