"""Inbound texts through the webhooks: opt-outs with evidence and one confirmation, no text
after an opt-out, opting back in only on START / UNSTOP / YES from the same number, HELP,
stop-wishes in words pausing SMS, unknown numbers kept, and the organization decided by the
receiving number or token, never by the sender's phone."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from twilio.request_validator import RequestValidator

from leads.models import Activity, ActivityKind, OptOut, Person
from leads.outreach.models import InboundMessage, OutboundMessage, Purpose
from leads.outreach.services.reviews import inbound_review
from leads.outreach.services.sending import message_deliver, message_queue
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.conftest import actor_of
from tests.leads.outreach.conftest import ORG_A_NUMBER

AUTH_TOKEN = "test-twilio-auth-token"


@pytest.fixture
def post_sms(outreach, django_capture_on_commit_callbacks):
    def post(body: str, sender: str = "+13125550123", token: str | None = None, **extra):
        url = reverse("outreach_sms_inbound", kwargs={"token": token or outreach.webhook_token})
        payload = {"from": sender, "to": ORG_A_NUMBER, "body": body, **extra}
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(url, json.dumps(payload), content_type="application/json")

    return post


def _opt_outs(person: Person) -> list[OptOut]:
    return list(OptOut.objects.filter(person=person, channel="sms").order_by("id"))


def _replies(purpose: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(purpose=purpose))


def test_stop_records_the_opt_out_with_the_text_as_evidence_and_confirms_once(
    sms_lead, post_sms, sms_outbox
):
    response = post_sms("Stop. Thank you")

    assert response.status_code == 200
    assert response.json()["intent"] == "opt_out"
    [entry] = _opt_outs(sms_lead.person)
    assert "Stop. Thank you" in entry.evidence
    assert "+13125550123" in entry.evidence
    sms_lead.person.refresh_from_db()
    assert sms_lead.person.consent_sms is False
    [confirmation] = sms_outbox.sent()
    assert "unsubscribed" in confirmation["body"]
    assert confirmation["to"] == "+13125550123"


def test_a_second_stop_sends_no_second_confirmation(sms_lead, post_sms, sms_outbox):
    post_sms("STOP")
    post_sms("stop")
    post_sms("UNSUBSCRIBE now")

    assert len(_opt_outs(sms_lead.person)) == 1
    assert len(sms_outbox.sent()) == 1
    assert len(_replies(Purpose.OPT_OUT_CONFIRMATION)) == 1


def test_a_spanish_speaker_is_confirmed_in_spanish(world: World, outreach, post_sms, sms_outbox):
    new_lead(
        study_site=world.study_site_a,
        person__phone="+13125550124",
        person__preferred_language="es",
    )

    post_sms("ALTO por favor", sender="+13125550124")

    assert "se dio de baja" in sms_outbox.sent()[0]["body"]


def test_no_outreach_text_goes_after_an_opt_out(world: World, sms_lead, post_sms, sms_outbox):
    post_sms("quit")

    message = message_queue(
        person=sms_lead.person,
        lead=sms_lead,
        channel="sms",
        body="Still interested?",
        actor=actor_of(world),
        idempotency_key="after-stop",
    )

    assert message.status == OutboundMessage.Status.BLOCKED
    assert message_deliver(message_id=message.pk) == OutboundMessage.Status.BLOCKED
    assert [s["body"] for s in sms_outbox.sent()][-1] != "Still interested?"


def test_only_an_explicit_start_from_the_same_number_opts_back_in(
    world: World, sms_lead, post_sms, sms_outbox
):
    post_sms("STOP")
    for text in ("yes I'd like to know more", "Hello again", "Please text me"):
        post_sms(text)
    post_sms("START", sender="+13125550999")  # another number

    [entry] = _opt_outs(sms_lead.person)
    assert entry.lifted_at is None
    assert Person.objects.get(pk=sms_lead.person_id).consent_sms is False

    post_sms("START")

    [lifted] = _opt_outs(sms_lead.person)
    assert lifted.lifted_at is not None
    assert "START" in lifted.lifted_evidence
    assert Person.objects.get(pk=sms_lead.person_id).consent_sms is True
    assert len(_replies(Purpose.OPT_IN_CONFIRMATION)) == 1


@pytest.mark.parametrize("keyword", ["UNSTOP", "yes"])
def test_unstop_and_yes_opt_back_in_too(sms_lead, post_sms, keyword):
    post_sms("STOP")
    post_sms(keyword)

    assert _opt_outs(sms_lead.person)[0].lifted_at is not None


def test_after_opting_back_in_a_new_stop_is_recorded_and_confirmed_again(
    sms_lead, post_sms, sms_outbox
):
    post_sms("STOP")
    post_sms("START")
    post_sms("STOP")

    assert len(_opt_outs(sms_lead.person)) == 2
    assert len(_replies(Purpose.OPT_OUT_CONFIRMATION)) == 2


def test_help_answers_with_the_organizations_contact(sms_lead, post_sms, sms_outbox):
    post_sms("HELP")

    [reply] = sms_outbox.sent()
    assert "Call (312) 555-0199." in reply["body"]
    assert _opt_outs(sms_lead.person) == []


def test_a_wish_to_stop_in_words_pauses_sms_until_the_owner_confirms(
    world: World, sms_lead, post_sms, sms_outbox
):
    post_sms("please don't text me again")

    [inbound] = InboundMessage.objects.all()
    assert inbound.needs_review
    assert inbound.intent == "maybe_stop"
    assert _opt_outs(sms_lead.person) == []
    paused = message_queue(
        person=sms_lead.person,
        lead=sms_lead,
        channel="sms",
        body="Any news?",
        actor=actor_of(world),
        idempotency_key="paused",
    )
    assert paused.status == OutboundMessage.Status.BLOCKED
    assert paused.reason.startswith("SMS paused")

    inbound_review(message=inbound, opt_out=True, actor=actor_of(world, "coordinator"))

    [entry] = _opt_outs(sms_lead.person)
    assert "please don't text me again" in entry.evidence


def test_an_owner_who_reads_it_otherwise_resumes_sms(world: World, sms_lead, post_sms):
    post_sms("wrong number")
    inbound_review(
        message=InboundMessage.objects.get(), opt_out=False, actor=actor_of(world, "coordinator")
    )

    message = message_queue(
        person=sms_lead.person,
        lead=sms_lead,
        channel="sms",
        body="Hello",
        actor=actor_of(world),
        idempotency_key="resumed",
    )
    assert message.status == OutboundMessage.Status.QUEUED


def test_a_reply_shows_on_the_timeline(sms_lead, post_sms):
    post_sms("Tuesday works for me")

    entry = Activity.objects.get(lead=sms_lead, kind=ActivityKind.MESSAGE)
    assert (entry.direction, entry.text) == ("inbound", "Tuesday works for me")


def test_an_unknown_number_is_kept_for_review(world: World, outreach, post_sms):
    post_sms("Who is this?", sender="+13125550777")

    [inbound] = InboundMessage.objects.all()
    assert inbound.person is None
    assert inbound.needs_review
    assert inbound.organization_id == world.org_a.pk


def test_a_providers_retry_of_the_same_message_is_kept_once(sms_lead, post_sms, sms_outbox):
    post_sms("STOP", id="SM1")
    post_sms("STOP", id="SM1")

    assert InboundMessage.objects.count() == 1
    assert len(sms_outbox.sent()) == 1


def test_a_stop_on_another_organizations_webhook_never_touches_this_ones_person(
    world: World, sms_lead, outreach, post_sms
):
    org_b_token = world.org_b.outreach.webhook_token

    post_sms("STOP", token=org_b_token)

    assert _opt_outs(sms_lead.person) == []
    [inbound] = InboundMessage.objects.all()
    assert inbound.organization_id == world.org_b.pk
    assert inbound.person is None


def test_an_unknown_token_is_a_404(outreach, post_sms):
    assert post_sms("STOP", token="not-a-token").status_code == 404


def test_a_malformed_body_is_a_clear_400(outreach):
    url = reverse("outreach_sms_inbound", kwargs={"token": outreach.webhook_token})

    response = Client().post(url, "not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


# Twilio -------------------------------------------------------------------------------------


@pytest.fixture
def twilio(settings, outreach, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN

    def post(form: dict[str, str], signature: str | None = None, url: str | None = None):
        url = url or reverse("outreach_twilio")
        full = f"http://testserver{url}"
        signature = signature or RequestValidator(AUTH_TOKEN).compute_signature(full, form)
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(url, form, headers={"X-Twilio-Signature": signature})

    return post


def _twilio_form(body: str, to: str = ORG_A_NUMBER) -> dict[str, str]:
    return {"From": "+13125550123", "To": to, "Body": body, "MessageSid": "SM" + "a" * 32}


def test_a_signed_twilio_stop_is_routed_by_the_receiving_number(sms_lead, twilio):
    response = twilio(_twilio_form("Stop"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert len(_opt_outs(sms_lead.person)) == 1


def test_a_twilio_post_with_an_invalid_signature_is_refused(sms_lead, twilio):
    response = twilio(_twilio_form("STOP"), signature="forged")

    assert response.status_code == 403
    assert _opt_outs(sms_lead.person) == []
    assert InboundMessage.objects.count() == 0


def test_a_twilio_post_without_a_signature_is_refused(sms_lead, outreach, settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN

    response = Client().post(reverse("outreach_twilio"), _twilio_form("STOP"))

    assert response.status_code == 403


def test_a_signature_for_other_fields_is_refused(sms_lead, twilio):
    signed_for = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://testserver" + reverse("outreach_twilio"), _twilio_form("hello")
    )

    assert twilio(_twilio_form("STOP"), signature=signed_for).status_code == 403


def test_a_twilio_text_to_a_number_no_organization_has_is_a_404(sms_lead, twilio):
    assert twilio(_twilio_form("STOP", to="+13125550002")).status_code == 404


def test_the_token_url_decides_the_organization_for_twilio_too(world: World, sms_lead, twilio):
    url = reverse("outreach_twilio_token", kwargs={"token": world.org_b.outreach.webhook_token})

    assert twilio(_twilio_form("STOP"), url=url).status_code == 200
    assert _opt_outs(sms_lead.person) == []


def test_a_reply_goes_to_the_persons_open_lead_rather_than_a_closed_one(
    world: World, sms_lead, post_sms
):
    from leads.services import lead_change_status

    closed = new_lead(study_site=world.study_site_a2, person=sms_lead.person)
    lead_change_status(
        lead=closed, status="closed", close_reason="not_interested", actor=actor_of(world)
    )

    post_sms("Tuesday works")

    assert InboundMessage.objects.get().lead == sms_lead


def _sent_text(world: World, lead) -> OutboundMessage:
    message = message_queue(
        person=lead.person, lead=lead, channel="sms", body="Hello", actor=actor_of(world),
        idempotency_key="report",
    )  # fmt: skip
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_twilios_delivery_report_marks_the_text_delivered(world: World, sms_lead, twilio):
    message = _sent_text(world, sms_lead)
    url = reverse("outreach_twilio_status")

    form = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    assert twilio(form, url=url).status_code == 204

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.DELIVERED
    assert twilio({**form, "MessageStatus": "sent"}, url=url).status_code == 204
    assert OutboundMessage.objects.get(pk=message.pk).status == OutboundMessage.Status.DELIVERED


def test_an_undelivered_report_fails_the_text_with_the_carriers_error(
    world: World, sms_lead, twilio
):
    message = _sent_text(world, sms_lead)
    form = {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    twilio(form, url=reverse("outreach_twilio_status"))

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.reason == "The carrier reports undelivered (error 30003)."


def test_a_delivery_report_without_a_valid_signature_changes_nothing(
    world: World, sms_lead, twilio
):
    message = _sent_text(world, sms_lead)
    form = {"MessageSid": message.provider_id, "MessageStatus": "failed"}

    response = twilio(form, signature="forged", url=reverse("outreach_twilio_status"))

    assert response.status_code == 403
    assert OutboundMessage.objects.get(pk=message.pk).status == OutboundMessage.Status.SENT


def test_a_delivery_report_for_an_unknown_message_is_a_404(sms_lead, twilio):
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}

    assert twilio(form, url=reverse("outreach_twilio_status")).status_code == 404


def test_a_stop_from_a_households_phone_opts_out_everyone_of_that_number_once(
    world: World, sms_lead, post_sms, sms_outbox
):
    partner = new_lead(
        study_site=world.study_site_a2, person__phone=sms_lead.person.phone,
        person__first_name="Jon",
    ).person  # fmt: skip

    post_sms("STOP")

    assert len(_opt_outs(sms_lead.person)) == 1
    assert len(_opt_outs(partner)) == 1
    assert len(sms_outbox.sent()) == 1  # one confirmation to the one number


def test_the_same_phone_in_another_organization_is_not_opted_out(world: World, sms_lead, post_sms):
    elsewhere = new_lead(study_site=world.study_site_b, person__phone=sms_lead.person.phone)

    post_sms("STOP")

    assert len(_opt_outs(sms_lead.person)) == 1
    assert _opt_outs(elsewhere.person) == []
