"""Closing as unreachable after the cadence: due times, idempotence, and the race a person
must win."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from leads.automation.cadence import cadence_close, close_unreachable, due_to_close
from leads.models import ActionKind, Channel, CloseReason, Lead, Outcome, Policy, Status
from leads.services import lead_log_attempt
from tests.conftest import World
from tests.factories import new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.notifications.models import Kind, Notification
from trialsnest.ops.models import JobRun

SYSTEM = Actor(user=None)


def _out_of_attempts(world: World) -> Lead:
    """A lead whose one-attempt cadence ran out: closing is due 24 hours after the attempt."""
    Policy.objects.update_or_create(
        study_site=world.study_site_a, defaults={"cadence_hours": [0], "final_wait_hours": 24}
    )
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    lead = lead_log_attempt(lead=lead, channel=Channel.PHONE, outcome=Outcome.NO_ANSWER,
                            actor=SYSTEM)  # fmt: skip
    assert lead.next_action == ActionKind.CLOSE_UNREACHABLE
    return lead


@pytest.mark.django_db
def test_it_closes_the_lead_once_the_final_wait_has_passed(world: World) -> None:
    lead = _out_of_attempts(world)

    assert cadence_close(now=timezone.now() + timedelta(hours=23)) == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert cadence_close() == 1

    lead.refresh_from_db()
    assert lead.status == Status.CLOSED
    assert lead.close_reason == CloseReason.UNREACHABLE
    event = AuditEvent.objects.get(action="lead.status_changed", object_id=str(lead.code))
    assert event.reason == "No answer after 1 attempts and the final waiting period"
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind) == (world.coordinator, Kind.CLOSED)
    run = JobRun.objects.filter(job="cadence_close").latest("started_at")
    assert run.changed["total"] == {"closed_unreachable": 1}


@pytest.mark.django_db
def test_running_it_twice_closes_once(world: World) -> None:
    lead = _out_of_attempts(world)
    later = timezone.now() + timedelta(hours=25)

    assert cadence_close(now=later) == 1
    assert cadence_close(now=later) == 0
    assert (
        AuditEvent.objects.filter(action="lead.status_changed", object_id=str(lead.code)).count()
        == 1
    )


@pytest.mark.django_db
def test_a_reply_logged_after_the_scan_keeps_the_lead_open(world: World) -> None:
    lead = _out_of_attempts(world)
    later = timezone.now() + timedelta(hours=25)
    scanned = due_to_close(now=later)
    with time_machine.travel(later):
        lead_log_attempt(lead=lead, channel=Channel.SMS, outcome=Outcome.REACHED,
                         direction="inbound", actor=SYSTEM)  # fmt: skip

    assert [close_unreachable(lead_id=i, seen_version=v, now=later) for i, v in scanned] == [False]
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTING
    assert lead.next_action == ActionKind.CONDUCT_PRESCREEN


@pytest.mark.django_db(transaction=True)
def test_a_reply_being_logged_while_the_job_runs_keeps_the_lead_open(world: World) -> None:
    """The coordinator's transaction holds the lead while the job runs: the job skips it, and
    once the reply commits the next run finds nothing to close."""
    lead = _out_of_attempts(world)
    later = timezone.now() + timedelta(hours=25)
    holding, job_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def coordinator() -> None:
        try:
            with transaction.atomic():
                lead_log_attempt(lead=lead, channel=Channel.PHONE, outcome=Outcome.REACHED,
                                 direction="inbound", actor=SYSTEM)  # fmt: skip
                holding.set()
                job_done.wait(timeout=20)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=coordinator)
    thread.start()
    assert holding.wait(timeout=20)
    try:
        closed = cadence_close(now=later)
    finally:
        job_done.set()
        thread.join(timeout=30)

    assert errors == []
    assert closed == 0
    assert cadence_close(now=later) == 0
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTING
    assert lead.close_reason == ""
