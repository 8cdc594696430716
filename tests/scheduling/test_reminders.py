"""Appointment reminders: 48 h and 2 h before a booked visit, each queued once however often
the scan runs, none whose moment had passed at booking, none for a cancelled visit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from leads.outreach.models import OutboundMessage, Purpose
from scheduling.models import AppointmentStatus
from scheduling.reminders import appointment_reminders_queue
from tests.conftest import World
from tests.scheduling.objects import appointment_at
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
