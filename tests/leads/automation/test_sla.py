"""SLA targets: flagged at the target in the site's business hours, the owner told once, the
site lead told after the further delay (across a DST change and a weekend), saying why."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from leads.automation.sla import sla_escalate, sla_flag, sla_scan
from leads.forms import PolicyForm
from leads.models import Blocker, Lead, Status
from leads.services import lead_change_status
from leads.services.policies import policy_for, policy_update
from tests.conftest import World
from tests.factories import MembershipFactory, many_leads, new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.notifications.models import Kind, Notification
from trialsnest.ops.models import JobRun
from trialsnest.tenancy.models import Role

SYSTEM = Actor(user=None)
# Friday 6 March 2026, 09:00 in Chicago (CST), when the site opens; DST starts on Sunday the 8th.
FRIDAY_OPEN = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
FRIDAY_CLOSE = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)  # 17:00 CST: 8 business hours later
MONDAY_CLOSE = datetime(2026, 3, 9, 22, 0, tzinfo=UTC)  # 17:00 CDT: 8 more business hours


@pytest.fixture
def friday_lead(world: World) -> Lead:
    with time_machine.travel(FRIDAY_OPEN, tick=False):
        return new_lead(study_site=world.study_site_a, owner=world.coordinator)


@pytest.mark.django_db
def test_a_lead_is_flagged_at_its_target_and_its_owner_told_once(
    world: World, friday_lead: Lead
) -> None:
    assert friday_lead.sla_due_at == FRIDAY_CLOSE
    assert sla_flag(now=FRIDAY_CLOSE - timedelta(seconds=1)) == 0

    assert sla_scan(now=FRIDAY_CLOSE) == (1, 0)
    assert sla_scan(now=FRIDAY_CLOSE + timedelta(minutes=5)) == (0, 0)

    notice = Notification.objects.get()
    assert notice.recipient == world.coordinator
    assert notice.kind == Kind.SLA_MISSED
    assert notice.lead_code == friday_lead.code
    assert (
        notice.reason == "Past the first-response target: waiting for a first contact from the team"
    )
    assert AuditEvent.objects.filter(action="lead.sla_missed").count() == 1
    runs = JobRun.objects.filter(job="sla").order_by("started_at")
    assert [run.changed["total"] for run in runs] == [
        {"flagged": 1, "escalated": 0},
        {"flagged": 0, "escalated": 0},
    ]


@pytest.mark.django_db
def test_the_site_lead_hears_after_the_delay_in_business_hours_across_dst_and_a_weekend(
    world: World, friday_lead: Lead
) -> None:
    sla_flag(now=FRIDAY_CLOSE)

    assert sla_escalate(now=datetime(2026, 3, 9, 15, 0, tzinfo=UTC)) == 0  # Monday 10:00 CDT
    assert sla_escalate(now=MONDAY_CLOSE - timedelta(seconds=1)) == 0
    assert sla_escalate(now=MONDAY_CLOSE) == 1
    assert sla_escalate(now=MONDAY_CLOSE + timedelta(hours=1)) == 0

    escalation = Notification.objects.get(kind=Kind.ESCALATION)
    assert escalation.recipient == world.site_lead
    assert "waiting for a first contact" in escalation.reason
    assert Notification.objects.filter(recipient=world.coordinator).count() == 1


@pytest.mark.django_db
def test_a_new_status_is_a_new_target_and_unflags_the_lead(world: World, friday_lead: Lead) -> None:
    sla_flag(now=FRIDAY_CLOSE)
    with time_machine.travel(FRIDAY_CLOSE + timedelta(hours=1), tick=False):
        lead = lead_change_status(lead=friday_lead, status=Status.CONTACTING, actor=SYSTEM)

    assert lead.sla_due_at is None  # contacting has no target of its own
    assert sla_escalate(now=MONDAY_CLOSE) == 0
    assert not Notification.objects.filter(kind=Kind.ESCALATION).exists()


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_once_flag_and_notify_each_lead_once(world: World) -> None:
    with time_machine.travel(FRIDAY_OPEN, tick=False):
        many_leads(study_site=world.study_site_a, owner=world.coordinator, n=200)
    barrier = threading.Barrier(2)

    def scan() -> None:
        try:
            barrier.wait(timeout=10)
            sla_scan(now=FRIDAY_CLOSE)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sla_scan(now=FRIDAY_CLOSE)  # whatever one copy skipped as locked, the next run takes

    assert Notification.objects.filter(kind=Kind.SLA_MISSED).count() == 200
    assert AuditEvent.objects.filter(action="lead.sla_missed").count() == 200
    assert Lead.objects.filter(sla_flagged_for=FRIDAY_CLOSE).count() == 200


def _awaiting_review(world: World) -> Lead:
    """A lead whose prescreen needs the study team's review, due by Friday's close."""
    with time_machine.travel(FRIDAY_OPEN, tick=False):
        lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    Lead.objects.filter(pk=lead.pk).update(
        status=Status.NEEDS_REVIEW, blocker=Blocker.AWAITING_REVIEW, sla_due_at=FRIDAY_CLOSE
    )
    return lead


@pytest.mark.django_db
def test_a_lead_awaiting_the_study_teams_review_escalates_to_its_reviewers(world: World) -> None:
    reviewer = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    policy = policy_for(world.study_site_a)
    policy_update(
        policy=policy,
        form_data={**PolicyForm(instance=policy).initial, "cadence": policy.cadence_hours,
                   "study_team": [reviewer]},
        actor=Actor(user=world.site_lead.user),
    )  # fmt: skip
    lead = _awaiting_review(world)
    sla_flag(now=FRIDAY_CLOSE)

    assert sla_escalate(now=MONDAY_CLOSE) == 1

    (escalation,) = Notification.objects.filter(kind=Kind.ESCALATION)
    assert (escalation.recipient, escalation.lead_code) == (reviewer, lead.code)
    assert escalation.reason == (
        "Escalated, prescreen-review target missed: waiting on the study team's review"
    )
    change = AuditEvent.objects.get(action="policy.updated").changes["study_team"]
    assert change == {"old": [], "new": [str(reviewer.code)]}


@pytest.mark.django_db
def test_without_a_named_reviewer_the_site_leads_hear_and_are_told_why(world: World) -> None:
    _awaiting_review(world)
    sla_flag(now=FRIDAY_CLOSE)

    assert sla_escalate(now=MONDAY_CLOSE) == 1

    (escalation,) = Notification.objects.filter(kind=Kind.ESCALATION)
    assert escalation.recipient == world.site_lead
    assert escalation.reason.endswith(
        "(no study-team reviewer is named for this study: to the site leads)"
    )
