"""Redis stopped: the public form, the intake API, sign-in, the queue, a lead edit, sending an
e-mail and a STOP text all keep working, and every submission becomes a lead exactly once (and
the e-mail goes, and the opt-out is recorded) after Redis is back.

The test runs the product as deployed: gunicorn and a worker with beat, on a Redis of its own
that it stops and starts (never the machine's shared one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from leads.models import Lead, OptOut, Submission
from leads.outreach.models import InboundMessage, OutboundMessage, OutreachSettings
from tests.conftest import World
from tests.factories import PASSWORD, new_lead
from tests.leads.api.conftest import LEADS_URL, lead_body, make_key
from tests.leads.visitors import interest_form
from tests.ops.stack import Browser, RedisServer, Stack, wait_until
from trialsnest.ops.models import OutboxMessage

FORMS = 20

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack() -> Iterator[Stack]:
    redis = RedisServer()
    redis.start()
    running = Stack(redis)
    try:
        yield running
    finally:
        running.stop()
        redis.stop()


def _real_password(user: Any) -> None:
    """gunicorn runs the production hashers, not the tests' fast one."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, uuid.uuid4().hex[:16])
    user.save(update_fields=["password"])


def test_with_redis_stopped_nothing_fails_and_nothing_is_lost(world: World, stack: Stack):
    coordinator = world.coordinator.user
    _real_password(coordinator)
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    outreach = OutreachSettings.objects.create(organization=world.org_a)
    key = make_key(world)
    leads_before = Lead.objects.count()
    stack.start_web()
    signed_in = Browser(stack.base)
    assert signed_in.sign_in(coordinator.email, PASSWORD).status == 302

    stack.redis.stop()

    health = signed_in.get("/healthz")
    assert health.status == 200
    assert json.loads(health.body)["status"] == "degraded"
    assert json.loads(health.body)["checks"]["broker"]["status"] == "down"

    page = f"/studies/sites/{world.study_site_a.code}/"
    for number in range(FORMS):
        visitor = Browser(stack.base)
        answer = visitor.post_form(
            page,
            interest_form(
                first_name=f"Visitor{number}",
                last_name="Redisdown",
                phone=f"(312) 263-{1000 + number:04d}",
                email=f"visitor{number}@example.com",
                site=str(world.study_site_a.code),
            ),
        )
        assert answer.status == 302, (number, answer.status, answer.body[:300])
        assert answer.headers["Location"].endswith("/thanks/")

    api = Browser(stack.base).request(
        "POST",
        LEADS_URL,
        body=json.dumps(lead_body(world, phone="(312) 263-0999", email="api@example.com")).encode(),
        headers={**key.headers(), "Content-Type": "application/json"},
    )
    assert api.status == 201, api.body

    fresh = Browser(stack.base)
    assert fresh.sign_in(coordinator.email, PASSWORD).status == 302
    queue = fresh.get("/queue/")
    assert queue.status == 200
    assert lead.person.first_name in queue.body
    note = fresh.post_form(f"/leads/{lead.code}/note/", {"text": "Called while Redis was down"})
    assert note.status == 302, note.body[:300]
    assert lead.activities.filter(text="Called while Redis was down").exists()
    sent = fresh.post_form(
        f"/leads/{lead.code}/messages/new/",
        {"channel": "email", "subject": "About the study", "body": "Sent while Redis was down",
         "key": "redis-down-1"},
    )  # fmt: skip
    assert sent.status == 302, sent.body[:300]
    message = OutboundMessage.objects.get(lead=lead)
    assert message.status == OutboundMessage.Status.QUEUED
    stop = Browser(stack.base).request(
        "POST",
        f"/outreach/sms/{outreach.webhook_token}/",
        body=json.dumps(
            {"from": lead.person.phone, "body": "STOP", "id": "SM-redis-down"}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert stop.status == 200, stop.body[:300]
    assert InboundMessage.objects.filter(provider_id="SM-redis-down").exists()  # kept

    # Kept, every one of them; the web form's leads wait for a worker and the broker.
    assert Submission.objects.count() == FORMS + 1
    assert OutboxMessage.objects.filter(task="leads.tasks.process_submission").count() == FORMS

    stack.redis.start()
    stack.start_worker()

    wait_until(
        lambda: not Submission.objects.filter(processed_at__isnull=True).exists(),
        90,
        "every submission to become a lead",
    )
    assert Lead.objects.count() == leads_before + FORMS + 1
    for submission in Submission.objects.all():
        assert submission.lead_id is not None
        assert submission.error == ""
    assert Lead.objects.filter(person__last_name="Redisdown").count() == FORMS
    assert Lead.objects.values("person").distinct().count() == Lead.objects.count()
    wait_until(lambda: not OutboxMessage.objects.exists(), 30, "the outbox to drain")
    # The e-mail queued while Redis was down went to the worker once it was back: sent, or held
    # for the person's quiet hours (the stack runs on the real clock), never left queued.
    wait_until(
        lambda: OutboundMessage.objects.get(pk=message.pk).status in ("sent", "held"),
        60,
        "the e-mail queued while Redis was down to be sent",
    )
    # The STOP kept while Redis was down is acted on once it is back.
    wait_until(
        lambda: OptOut.objects.filter(person=lead.person, channel="sms").exists(),
        60,
        "the STOP texted while Redis was down to be recorded",
    )
