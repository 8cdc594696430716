"""The morning digest: from 08:00 site time on a working day, once a member a day (however
often or concurrently the scan runs), counts only, and sent again after a lost send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from leads.automation.digest import LEASE, digest_send, digests_claim
from leads.models import DigestClaim
from tests.conftest import World
from tests.factories import new_lead

# Monday 9 March 2026 (after the DST change), 07:59 and 08:00 in Chicago (CDT, UTC-5).
BEFORE = datetime(2026, 3, 9, 12, 59, tzinfo=UTC)
MORNING = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
SATURDAY_MORNING = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def coordinator_with_leads(world: World) -> World:
    world.coordinator.restricted_sites.set([world.site_a])
    with time_machine.travel(BEFORE - timedelta(days=1)):
        new_lead(study_site=world.study_site_a, owner=world.coordinator, person__first_name="Maria")
    return world


@pytest.mark.django_db
def test_it_comes_at_eight_site_time_on_working_days_only_once(
    coordinator_with_leads: World, django_capture_on_commit_callbacks
) -> None:
    world = coordinator_with_leads
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_claim(now=SATURDAY_MORNING) == 0
        assert digests_claim(now=BEFORE) == 0
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert digests_claim() == 1
        assert digests_claim() == 0
        assert digests_claim(now=MORNING + timedelta(hours=3)) == 0

    digests = [m for m in mail.outbox if m.to == [world.coordinator.user.email]]
    assert len(digests) == 1
    assert "1 of your leads is due now" in digests[0].body
    assert "Maria" not in digests[0].body  # counts only
    assert digests[0].extra_headers["Message-ID"].startswith(f"<digest-{world.coordinator.code}")
    assert DigestClaim.objects.get().sent_at is not None


@pytest.mark.django_db
def test_a_claim_whose_send_was_lost_is_sent_after_its_lease(
    coordinator_with_leads: World, django_capture_on_commit_callbacks
) -> None:
    assert digests_claim(now=MORNING) == 1  # no commit here: its task never ran
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        assert digests_claim(now=MORNING + LEASE / 2) == 0  # within the lease: left alone
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_claim(now=MORNING + LEASE + timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1
    assert digest_send(claim_id=DigestClaim.objects.get().pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_member_on_their_own_clock_gets_it_at_eight_their_time(
    coordinator_with_leads: World, django_capture_on_commit_callbacks
) -> None:
    world = coordinator_with_leads
    world.coordinator.timezone = "America/Los_Angeles"  # 08:00 there is 15:00 UTC (PDT)
    world.coordinator.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_claim(now=MORNING) == 0  # 06:00 on their clock
        assert digests_claim(now=datetime(2026, 3, 9, 14, 59, tzinfo=UTC)) == 0
        assert digests_claim(now=datetime(2026, 3, 9, 15, 0, tzinfo=UTC)) == 1
    assert DigestClaim.objects.get().day.isoformat() == "2026-03-09"
