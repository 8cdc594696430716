"""The stale-lead sweep: set-based, in batches, idempotent, and cleared by any movement."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from leads.automation.stale import stale_sweep
from leads.models import ActionKind, Activity, Channel, Lead, Outcome, Status
from leads.services import lead_log_attempt, lead_snooze
from tests.conftest import World
from tests.factories import many_leads, new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.ops.models import JobRun

SYSTEM = Actor(user=None)


def _stale_codes() -> set[str]:
    return {
        str(code)
        for code in Lead.objects.filter(stale_marked_at__isnull=False).values_list(
            "code", flat=True
        )
    }


@pytest.mark.django_db
def test_it_marks_leads_without_movement_past_the_stale_period(world: World) -> None:
    quiet = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        moved = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        lead_log_attempt(lead=moved, channel=Channel.PHONE, outcome=Outcome.NO_ANSWER,
                         actor=SYSTEM)  # fmt: skip
    later = timezone.now() + timedelta(days=7, hours=1)  # the default period is 7 days

    assert stale_sweep(now=later) == 1

    quiet.refresh_from_db()
    assert quiet.stale_marked_at == later
    assert quiet.next_action == ActionKind.STALE_REVIEW
    assert quiet.attention_at == later
    entry = Activity.objects.filter(lead=quiet).order_by("-id").first()
    assert entry is not None
    assert entry.data["kind"] == ActionKind.STALE_REVIEW
    assert entry.data["reason"] == "stale"
    assert entry.data["days"] == 7
    assert entry.data["version"] == quiet.version
    event = AuditEvent.objects.get(action="lead.marked_stale", object_id=str(quiet.code))
    assert event.changes == {
        "next_action": {"new": ActionKind.STALE_REVIEW},
        "stale_days": {"new": 7},
    }
    assert event.reason == "No movement for the StudySite's stale period"
    assert event.organization_id == world.org_a.pk
    assert event.at == later
    assert event.actor_id is None
    assert not Lead.objects.get(pk=moved.pk).stale_marked_at
    run = JobRun.objects.get(job="stale_sweep")
    assert run.changed == {
        "total": {"marked_stale": 1},
        "by_org": {str(world.org_a.pk): {"marked_stale": 1}},
    }
    assert not run.failed


@pytest.mark.django_db
def test_running_it_twice_changes_nothing_the_second_time(world: World) -> None:
    leads = many_leads(study_site=world.study_site_a, owner=world.coordinator, n=40)
    later = timezone.now() + timedelta(days=8)

    assert stale_sweep(now=later, batch=7) == 40  # many batches over the id range
    versions = dict(Lead.objects.values_list("id", "version"))
    entries = Activity.objects.count()

    assert stale_sweep(now=later + timedelta(minutes=10), batch=7) == 0
    assert dict(Lead.objects.values_list("id", "version")) == versions
    assert Activity.objects.count() == entries
    assert AuditEvent.objects.filter(action="lead.marked_stale").count() == len(leads)


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_once_mark_each_lead_once(world: World) -> None:
    many_leads(study_site=world.study_site_a, owner=world.coordinator, n=300)
    later = timezone.now() + timedelta(days=8)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(stale_sweep(now=later, batch=50))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(counts) == 300
    assert len(_stale_codes()) == 300
    assert AuditEvent.objects.filter(action="lead.marked_stale").count() == 300
    assert Activity.objects.filter(data__reason="stale").count() == 300


@pytest.mark.django_db
def test_any_movement_clears_the_mark(world: World) -> None:
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    later = timezone.now() + timedelta(days=8)
    stale_sweep(now=later)
    with time_machine.travel(later + timedelta(hours=1)):
        lead = lead_log_attempt(lead=lead, channel=Channel.PHONE, outcome=Outcome.REACHED,
                                actor=SYSTEM)  # fmt: skip

    assert lead.stale_marked_at is None
    assert lead.next_action == ActionKind.CONDUCT_PRESCREEN
    assert lead.status == Status.CONTACTING


@pytest.mark.django_db
def test_snoozed_and_paused_leads_are_not_swept(world: World) -> None:
    snoozed = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    later = timezone.now() + timedelta(days=8)
    lead_snooze(lead=snoozed, until=later + timedelta(days=1), actor=SYSTEM)

    assert stale_sweep(now=later) == 0
    assert stale_sweep(now=later + timedelta(days=2)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_lead_a_person_holds_is_left_for_the_next_run(world: World) -> None:
    held, *others = many_leads(study_site=world.study_site_a, owner=world.coordinator, n=12)
    later = timezone.now() + timedelta(days=8)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Lead.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        assert stale_sweep(now=later, batch=5) == len(others)  # not waiting on the held lead
    finally:
        release.set()
        holder.join(timeout=30)

    assert Lead.objects.get(pk=held.pk).stale_marked_at is None
    assert stale_sweep(now=later) == 1
    assert len(_stale_codes()) == 12
    assert AuditEvent.objects.filter(action="lead.marked_stale").count() == 12
