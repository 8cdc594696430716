"""Sending: checked when queued and again when the task sends, at most once per key, held
(not dropped) in the recipient's quiet hours and released by the beat scan when they end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from leads.models import Activity, ActivityKind, Person
from leads.outreach.backends import Sms
from leads.outreach.models import OutboundMessage
from leads.outreach.services.sending import (
    SENDING_LEASE,
    held_messages_release,
    message_deliver,
    message_queue,
    messages_resume_sending,
)
from leads.services import person_record_opt_out
from tests.conftest import World, signed_in
from tests.factories import new_lead
from tests.leads.conftest import actor_of
from tests.leads.outreach.conftest import NIGHT_IN_CHICAGO

Status = OutboundMessage.Status


def _queue(world, lead, body="Hi Maria, about the study", key="k1", channel="sms", **kw):
    return message_queue(
        person=lead.person,
        lead=lead,
        channel=channel,
        body=body,
        actor=actor_of(world, "coordinator"),
        idempotency_key=key,
        **kw,
    )


def test_a_text_is_sent_by_the_task_once_queued(
    world: World, sms_lead, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue(world, sms_lead)

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert [(s["to"], s["from"], s["body"]) for s in sms_outbox.sent()] == [
        ("+13125550123", "+13125550000", "Hi Maria, about the study")
    ]
    assert message.provider_id == sms_outbox.sent()[0]["id"]


def test_a_retry_with_the_same_key_is_the_same_message_and_sends_nothing_more(
    world: World, sms_lead, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _queue(world, sms_lead, key="send-1")
    with django_capture_on_commit_callbacks(execute=True):
        again = _queue(world, sms_lead, key="send-1", body="A different text")

    assert again.pk == first.pk
    assert len(sms_outbox.sent()) == 1
    assert OutboundMessage.objects.count() == 1


def test_the_task_run_twice_sends_once(world: World, sms_lead, sms_outbox):
    message = _queue(world, sms_lead)  # the task not run yet (no commit in this test)

    assert message_deliver(message_id=message.pk) == Status.SENT
    assert message_deliver(message_id=message.pk) == Status.SENT
    assert len(sms_outbox.sent()) == 1


def test_a_claimed_message_is_not_sent_again_while_its_worker_may_be_sending(
    world: World, sms_lead, sms_outbox
):
    message = _queue(world, sms_lead)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now()
    )

    assert message_deliver(message_id=message.pk) == Status.SENDING
    assert messages_resume_sending() == 0
    assert sms_outbox.sent() == []


def test_a_send_cut_off_after_the_provider_took_it_is_retried_and_not_sent_twice(
    world: World, sms_lead, sms_outbox, django_capture_on_commit_callbacks
):
    message = _queue(world, sms_lead)
    # A worker claimed it, the provider took the text, and the worker died before the outcome.
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now()
    )
    first_id = sms_outbox.send(
        Sms(to=message.to, from_="+13125550000", body=message.body, key=f"tn-{message.code}")
    )

    later = timezone.now() + SENDING_LEASE + timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert messages_resume_sending() == 1  # the task (eager here) retries it

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_id == first_id
    assert len(sms_outbox.sent()) == 1


def test_a_send_cut_off_before_the_provider_is_retried_and_sent_once(
    world: World, sms_lead, sms_outbox, django_capture_on_commit_callbacks
):
    message = _queue(world, sms_lead)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now()
    )

    later = timezone.now() + SENDING_LEASE + timedelta(seconds=1)
    with time_machine.travel(later):
        with django_capture_on_commit_callbacks(execute=True):
            assert messages_resume_sending() == 1
        assert messages_resume_sending() == 0

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert [s["key"] for s in sms_outbox.sent()] == [f"tn-{message.code}"]


def test_an_opt_out_between_queueing_and_sending_blocks_the_send(
    world: World, sms_lead, sms_outbox
):
    message = _queue(world, sms_lead)
    person_record_opt_out(person=sms_lead.person, channel="sms", actor=actor_of(world))

    assert message_deliver(message_id=message.pk) == Status.BLOCKED
    message.refresh_from_db()
    assert message.reason == "Opted out of SMS."
    assert sms_outbox.sent() == []


def test_consent_withdrawn_after_queueing_blocks_the_send(world: World, sms_lead, sms_outbox):
    message = _queue(world, sms_lead, channel="email", subject="Hello")
    Person.objects.filter(pk=sms_lead.person_id).update(consent_email=False)

    assert message_deliver(message_id=message.pk) == Status.BLOCKED
    message.refresh_from_db()
    assert message.reason == "No consent to E-mail."
    assert mail.outbox == []


def test_a_message_without_consent_is_blocked_at_once_with_the_reason(
    world: World, outreach, sms_outbox, daytime
):
    lead = new_lead(study_site=world.study_site_a, person__consent_sms=False)

    message = _queue(world, lead)

    assert (message.status, message.reason) == (Status.BLOCKED, "No consent to SMS.")
    assert message_deliver(message_id=message.pk) == Status.BLOCKED
    assert sms_outbox.sent() == []


def test_an_email_goes_through_djangos_mail_with_an_escaped_html_part(
    world: World, sms_lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue(world, sms_lead, channel="email", subject="Your visit", body="<b>Hi</b>")

    message.refresh_from_db()
    assert message.status == Status.SENT
    [sent] = mail.outbox
    assert isinstance(sent, mail.EmailMultiAlternatives)
    assert (sent.subject, sent.to) == ("Your visit", [sms_lead.person.email])
    assert sent.body == "<b>Hi</b>"
    html, _ = sent.alternatives[0]
    assert "&lt;b&gt;Hi&lt;/b&gt;" in str(html)
    assert message.provider_id == sent.extra_headers["Message-ID"]


def test_a_text_in_their_quiet_hours_is_held_then_sent_when_the_window_opens(
    world: World, outreach, sms_outbox
):
    with time_machine.travel(NIGHT_IN_CHICAGO, tick=False):
        lead = new_lead(study_site=world.study_site_a, person__postal_code="60601")
        message = _queue(world, lead)
        assert message_deliver(message_id=message.pk) == Status.HELD
    message.refresh_from_db()
    # 08:00 in Chicago the next morning.
    assert message.hold_until == datetime(2025, 6, 5, 13, 0, tzinfo=UTC)
    assert "America/Chicago" in message.reason
    assert sms_outbox.sent() == []

    with time_machine.travel(datetime(2025, 6, 5, 12, 59, tzinfo=UTC), tick=False):
        assert held_messages_release() == 0
    with time_machine.travel(datetime(2025, 6, 5, 13, 0, tzinfo=UTC), tick=False):
        assert held_messages_release() == 1
        assert message_deliver(message_id=message.pk) == Status.SENT
    assert len(sms_outbox.sent()) == 1


def test_quiet_hours_are_the_recipients_from_their_zip_code_not_the_sites(
    world: World, outreach, sms_outbox
):
    # 22:30 in Chicago (the site) is 19:30 in Los Angeles, where the person lives: daytime.
    with time_machine.travel(NIGHT_IN_CHICAGO, tick=False):
        lead = new_lead(study_site=world.study_site_a, person__postal_code="90012")
        assert message_deliver(message_id=_queue(world, lead).pk) == Status.SENT


def test_an_early_morning_in_anchorage_holds_a_text_the_sites_clock_would_allow(
    world: World, outreach, sms_outbox
):
    # 15:00 UTC is 10:00 in Chicago but 07:00 in Anchorage (ZIP 99501).
    with time_machine.travel(datetime(2025, 6, 4, 15, 0, tzinfo=UTC), tick=False):
        lead = new_lead(study_site=world.study_site_a, person__postal_code="99501")
        message = _queue(world, lead)
        assert message_deliver(message_id=message.pk) == Status.HELD
    message.refresh_from_db()
    assert message.hold_until == datetime(2025, 6, 4, 16, 0, tzinfo=UTC)  # 08:00 Anchorage


def test_without_a_known_zip_code_the_stricter_of_the_sites_and_the_phones_zone_applies(
    world: World, outreach, sms_outbox
):
    # 12:30 UTC: 08:30 in New York (the phone's area code 212) but 07:30 in Chicago (the site).
    with time_machine.travel(datetime(2025, 6, 4, 12, 30, tzinfo=UTC), tick=False):
        lead = new_lead(
            study_site=world.study_site_a, person__phone="+12125550188", person__postal_code=""
        )
        message = _queue(world, lead)
        assert message_deliver(message_id=message.pk) == Status.HELD
    message.refresh_from_db()
    assert message.hold_until == datetime(2025, 6, 4, 13, 0, tzinfo=UTC)  # 08:00 in Chicago


def test_a_text_at_21_00_their_time_is_held(world: World, outreach, sms_outbox):
    # 21:00 in New York (ZIP 10001) is still 20:00 at the Chicago site.
    with time_machine.travel(datetime(2025, 6, 5, 1, 0, tzinfo=UTC), tick=False):
        lead = new_lead(study_site=world.study_site_a, person__postal_code="10001")
        assert message_deliver(message_id=_queue(world, lead).pk) == Status.HELD


def test_message_bodies_are_escaped_in_the_timeline(
    world: World, sms_lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _queue(world, sms_lead, body="<script>alert(1)</script> & <b>bold</b>")

    page = signed_in(world.coordinator.user).get(
        reverse("lead_detail", kwargs={"code": sms_lead.code})
    )
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body


def test_each_outcome_is_on_the_timeline_and_in_the_audit_trail(
    world: World, sms_lead, django_capture_on_commit_callbacks
):
    from trialsnest.audit.models import AuditEvent

    with django_capture_on_commit_callbacks(execute=True):
        message = _queue(world, sms_lead)

    entries = Activity.objects.filter(lead=sms_lead, kind=ActivityKind.MESSAGE).order_by("id")
    assert [e.data["status"] for e in entries] == ["queued", "sent"]
    events = AuditEvent.objects.filter(object_id=str(message.code))
    assert sorted(events.values_list("action", flat=True)) == ["message.queued", "message.sent"]


def test_a_queued_message_whose_task_was_lost_is_sent_by_the_beat_scan(
    world: World, sms_lead, sms_outbox, daytime, django_capture_on_commit_callbacks
):
    from leads.outreach.tasks import release_held_messages

    message = _queue(world, sms_lead)  # committed, but its task never ran (no commit here)
    assert release_held_messages() == 0  # not stale yet

    daytime.shift(180)
    with django_capture_on_commit_callbacks(execute=True):
        assert release_held_messages() == 1  # its task runs (Celery is eager in tests)

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(sms_outbox.sent()) == 1
