"""Appointment reminders: 48 h and 2 h before a booked visit, each queued once however often
the scan runs, none whose moment had passed at booking, none for a cancelled visit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leads.models import Activity, ActivityKind
from leads.outreach.backends import FileSmsBackend
from leads.outreach.models import OutboundMessage, OutreachSettings, Purpose
from leads.outreach.tasks import deliver_messages
from scheduling.models import Appointment, AppointmentStatus
from scheduling.reminders import appointment_reminders_queue
from scheduling.selectors import free_slots, week_start
from scheduling.services.appointments import appointment_book
from tests.conftest import World
from tests.scheduling.conftest import ready_lead
from tests.scheduling.objects import appointment_at, bookable
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.ops.models import JobRun


# Booking e-mails the person too (scheduling.services.notices): only the reminders count here.
def reminders():
    return OutboundMessage.objects.filter(idempotency_key__startswith="visit-reminder:")


@pytest.mark.django_db
def test_each_reminder_is_queued_once_at_its_hour(world: World) -> None:
    appointment = appointment_at(world.study_site_a)  # next week
    starts = appointment.starts_at

    assert appointment_reminders_queue(now=starts - timedelta(hours=49)) == 0
    assert appointment_reminders_queue(now=starts - timedelta(hours=48)) == 1
    assert appointment_reminders_queue(now=starts - timedelta(hours=47, minutes=30)) == 0
    assert appointment_reminders_queue(now=starts - timedelta(hours=2)) == 1
    assert appointment_reminders_queue(now=starts - timedelta(hours=1)) == 0

    keys = sorted(reminders().values_list("idempotency_key", flat=True))
    assert keys == [
        f"visit-reminder:{appointment.code}:2h",
        f"visit-reminder:{appointment.code}:48h",
    ]
    message = reminders().first()
    assert message is not None
    assert message.lead_id == appointment.lead_id
    assert message.purpose == Purpose.APPOINTMENT
    assert "Reminder: your study visit at" in message.body
    runs = JobRun.objects.filter(job="appointment_reminders")
    assert sorted(run.changed["total"]["reminders_queued"] for run in runs) == [0, 0, 0, 1, 1]


@pytest.mark.django_db
def test_no_reminder_whose_moment_passed_before_booking_nor_for_a_cancelled_visit(
    world: World,
) -> None:
    appointment = appointment_at(world.study_site_a)
    starts = appointment.starts_at
    type(appointment).objects.filter(pk=appointment.pk).update(
        created_at=starts - timedelta(hours=10)
    )
    assert appointment_reminders_queue(now=starts - timedelta(hours=48)) == 0
    type(appointment).objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    with time_machine.travel(starts - timedelta(hours=2)):
        assert appointment_reminders_queue() == 0
    assert not reminders().exists()


@pytest.mark.django_db
def test_many_reminders_are_claimed_in_batches_with_their_timeline_and_audit_rows(
    world: World, settings, tmp_path
) -> None:
    settings.SMS_URL = f"file://{tmp_path / 'sms.jsonl'}"
    OutreachSettings.objects.create(organization=world.org_a, sms_number="+13125550000")
    visit_type = bookable(world.study_site_a)
    next_week = week_start(timezone.now().date()) + timedelta(days=7)
    slot = next(s for d in free_slots(visit_type, next_week) for s in d.slots)
    appointments = [
        appointment_book(lead=ready_lead(world.study_site_a), visit_type=visit_type,
                         starts_at=slot.starts_at + timedelta(hours=i), actor=Actor(user=None))
        for i in range(3)
    ]  # fmt: skip
    # The three at one moment (as three rooms would allow): their reminders fall due together.
    starts = slot.starts_at
    Appointment.objects.filter(pk__in=[a.pk for a in appointments]).update(
        starts_at=starts, ends_at=starts + timedelta(hours=1)
    )

    due = starts - timedelta(hours=48)
    assert appointment_reminders_queue(now=due, limit=2) == 3
    assert appointment_reminders_queue(now=due, limit=2) == 0

    messages = list(reminders().filter(idempotency_key__endswith=":48h"))
    assert {m.lead_id for m in messages} == {a.lead_id for a in appointments}
    assert {m.status for m in messages} == {OutboundMessage.Status.QUEUED}
    codes = [str(m.code) for m in messages]
    assert Activity.objects.filter(kind=ActivityKind.MESSAGE, data__message__in=codes).count() == 3
    assert AuditEvent.objects.filter(action="message.queued", object_id__in=codes).count() == 3
    # The worker's task checks and sends each once; run again, it sends nothing more.
    with time_machine.travel(due, tick=False):  # daytime where they are (a weekday at 9:00)
        assert deliver_messages([m.pk for m in messages]) == 3
        assert deliver_messages([m.pk for m in messages]) == 3  # sent, and not again:
    assert len(FileSmsBackend(tmp_path / "sms.jsonl").sent()) == 3
    assert set(
        reminders().filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)
    ) == {OutboundMessage.Status.SENT}
