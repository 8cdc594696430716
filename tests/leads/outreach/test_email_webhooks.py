"""The e-mail provider's webhooks through django-anymail (Postmark's payloads, over HTTP with the
webhook secret): delivery reports update the message, a complaint opts out of e-mail, and a reply
to one of our e-mails lands on the lead's timeline (an "unsubscribe" reply opts out)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from leads.models import Activity, ActivityKind, Direction, OptOut
from leads.outreach.models import InboundMessage, OutboundMessage
from leads.outreach.services.sending import message_deliver, message_queue
from tests.conftest import World
from tests.leads.conftest import actor_of
from trialsnest.notifications.models import Kind, Notification

Status = OutboundMessage.Status
SECRET = "provider:s3cret-webhook"


@pytest.fixture(autouse=True)
def _postmark(settings):
    settings.EMAIL_PROVIDER = "postmark"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def _post(path: str, payload: dict[str, Any], secret: str = SECRET) -> int:
    auth = base64.b64encode(secret.encode()).decode()
    response = Client().post(
        path,
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )
    return response.status_code


def _sent_email(world: World, lead) -> OutboundMessage:
    message = message_queue(
        person=lead.person,
        lead=lead,
        channel="email",
        subject="About the study",
        body="Hello Maria",
        actor=actor_of(world, "coordinator"),
        idempotency_key="email-1",
    )
    assert message_deliver(message_id=message.pk) == Status.SENT
    message.refresh_from_db()
    assert message.provider_id == mail.outbox[0].extra_headers["Message-ID"]
    return message


def test_a_delivery_report_marks_the_email_delivered_and_a_repeat_changes_nothing(
    world: World, sms_lead
):
    message = _sent_email(world, sms_lead)
    report = {"RecordType": "Delivery", "MessageID": message.provider_id,
              "Recipient": message.to, "DeliveredAt": "2025-06-04T15:00:05Z",
              "Details": "250 OK"}  # fmt: skip

    assert _post("/outreach/email/tracking/", report) == 200
    assert _post("/outreach/email/tracking/", report) == 200

    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_bounce_fails_the_email_with_the_reason(world: World, sms_lead):
    message = _sent_email(world, sms_lead)
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "ID": 42,
              "MessageID": message.provider_id, "Email": message.to,
              "BouncedAt": "2025-06-04T15:00:05Z",
              "Description": "The mailbox does not exist."}  # fmt: skip

    assert _post("/outreach/email/tracking/", bounce) == 200

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert "bounced" in message.reason
    assert "does not exist" in message.reason


def test_a_spam_complaint_opts_the_person_out_of_email(world: World, sms_lead):
    message = _sent_email(world, sms_lead)
    complaint = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "ID": 43,
                 "MessageID": message.provider_id, "Email": message.to,
                 "BouncedAt": "2025-06-04T15:00:05Z"}  # fmt: skip

    assert _post("/outreach/email/tracking/", complaint) == 200

    sms_lead.person.refresh_from_db()
    assert sms_lead.person.consent_email is False
    assert OptOut.objects.filter(person=sms_lead.person, channel="email").count() == 1


def test_a_wrong_secret_is_refused_and_changes_nothing(world: World, sms_lead):
    message = _sent_email(world, sms_lead)
    report = {"RecordType": "Delivery", "MessageID": message.provider_id,
              "Recipient": message.to, "DeliveredAt": "2025-06-04T15:00:05Z"}  # fmt: skip

    assert _post("/outreach/email/tracking/", report, secret="provider:guess") == 400

    message.refresh_from_db()
    assert message.status == Status.SENT


def _reply(message: OutboundMessage, text: str, message_id: str = "reply-1") -> dict[str, Any]:
    return {
        "FromFull": {"Email": message.to, "Name": "Maria"},
        "ToFull": [{"Email": "team@site.example", "Name": ""}],
        "Subject": "Re: About the study",
        "MessageID": message_id,
        "TextBody": text,
        "Headers": [{"Name": "In-Reply-To", "Value": message.provider_id}],
    }


def test_a_reply_shows_on_the_lead_s_timeline_without_the_quoted_message(world: World, sms_lead):
    message = _sent_email(world, sms_lead)
    text = "Thursday morning works for me.\n\nOn Wed, Jun 4, 2025 the team wrote:\n> Hello Maria"

    assert _post("/outreach/email/inbound/", _reply(message, text)) == 200
    assert _post("/outreach/email/inbound/", _reply(message, text)) == 200  # a retry

    (received,) = InboundMessage.objects.filter(channel="email")
    assert (received.person, received.lead) == (sms_lead.person, sms_lead)
    assert received.body == "Thursday morning works for me."
    assert received.intent == "reply"
    assert not received.needs_review
    activity = Activity.objects.get(lead=sms_lead, kind=ActivityKind.MESSAGE,
                                    direction=Direction.INBOUND)  # fmt: skip
    assert activity.text == "Thursday morning works for me."
    assert sms_lead.person.consent_email is True
    # The owner's bell says so once, without the words.
    (notice,) = Notification.objects.filter(recipient=sms_lead.owner, kind=Kind.REPLY)
    assert (notice.lead_code, notice.reason) == (sms_lead.code, "The person replied by e-mail")


def test_an_unsubscribe_reply_opts_out_of_email_once(world: World, sms_lead):
    message = _sent_email(world, sms_lead)

    assert _post("/outreach/email/inbound/", _reply(message, "Unsubscribe me please")) == 200
    assert _post("/outreach/email/inbound/", _reply(message, "STOP", "reply-2")) == 200

    sms_lead.person.refresh_from_db()
    assert sms_lead.person.consent_email is False
    assert sms_lead.person.consent_sms is True  # an e-mail reply says nothing about texts
    assert OptOut.objects.filter(person=sms_lead.person, channel="email").count() == 1


def test_an_email_answering_none_of_ours_is_not_attached_to_anyone(world: World, sms_lead):
    message = _sent_email(world, sms_lead)
    stranger = _reply(message, "Hello?")
    stranger["Headers"] = [{"Name": "In-Reply-To", "Value": "<someone-else@example.com>"}]

    assert _post("/outreach/email/inbound/", stranger) == 200

    assert not InboundMessage.objects.filter(channel="email").exists()


def test_without_a_provider_or_a_secret_the_webhook_does_not_answer(
    world: World, sms_lead, settings
):
    message = _sent_email(world, sms_lead)
    report = {"RecordType": "Delivery", "MessageID": message.provider_id,
              "Recipient": message.to, "DeliveredAt": "2025-06-04T15:00:05Z"}  # fmt: skip

    settings.ANYMAIL = {}
    assert _post("/outreach/email/tracking/", report) == 403
    settings.EMAIL_PROVIDER = ""
    assert _post("/outreach/email/tracking/", report) == 404
    settings.EMAIL_PROVIDER = "postmark"
    assert _post("/outreach/email/bounces/", report) == 404

    message.refresh_from_db()
    assert message.status == Status.SENT
