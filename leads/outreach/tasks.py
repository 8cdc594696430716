"""Outreach tasks: thin adapters that take ids and call a service; each is safe to run twice.
(leads.tasks imports them, so Celery's autodiscovery registers them.)"""

from __future__ import annotations

from celery import shared_task

from leads.outreach.services.inbound import inbound_requeue_waiting, inbound_sms_process
from leads.outreach.services.sending import (
    held_messages_release,
    message_deliver,
    messages_requeue_stale,
    messages_resume_sending,
)
from trialsnest.celery import durable_task


@durable_task()
def deliver_message(message_id: int) -> str:
    """Check and send one message (leads.outreach.services.sending.message_deliver)."""
    return message_deliver(message_id=message_id)


@durable_task()
def deliver_messages(message_ids: list[int]) -> int:
    """Check and send a job's batch of messages, one after another; returns how many stand
    sent (a message sent before is not sent again). A worker killed halfway leaves the rest
    queued, and the beat hands them on again."""
    return sum(message_deliver(message_id=i) == "sent" for i in message_ids)


@shared_task
def release_held_messages() -> int:
    """Beat, every minute: messages held for quiet hours whose window has opened, queued
    messages whose task was lost, claimed ones whose worker died before the outcome, and
    inbound texts whose task was lost."""
    return (
        held_messages_release()
        + messages_requeue_stale()
        + messages_resume_sending()
        + inbound_requeue_waiting()
    )


# On a queue of its own (trialsnest.celery.INBOUND_QUEUE).
@durable_task()
def process_inbound_sms(message_id: int) -> int:
    """Act on the texts waiting in this text's organization (services.inbound)."""
    return inbound_sms_process(message_id=message_id)
