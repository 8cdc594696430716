"""The jobs page: recent runs with this organization's counts (never another's), durations,
failures, beat's heartbeat and the outbox backlog."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.automation.stale import stale_sweep
from tests.conftest import World, signed_in
from tests.factories import many_leads
from trialsnest.ops.jobs import job_run


@pytest.mark.django_db
def test_it_lists_runs_with_this_organizations_counts_and_failures(world: World) -> None:
    many_leads(study_site=world.study_site_a, owner=world.coordinator, n=3)
    outsider_lead_owner = world.outsider
    many_leads(study_site=world.study_site_b, owner=outsider_lead_owner, n=5)
    stale_sweep(now=timezone.now() + timedelta(days=8))
    with pytest.raises(RuntimeError), job_run("broken"):
        raise RuntimeError("the disk is full")

    page = signed_in(world.site_lead.user).get(reverse("jobs"))
    assert page.status_code == 200
    assert b'href="/queue/?tab=stale">marked_stale: 3</a>' in page.content
    assert b"marked_stale: 5" not in page.content  # org B's
    assert b"Failed</strong>: RuntimeError: the disk is full" in page.content
    assert b"Outbox backlog: 0 waiting" in page.content

    other = signed_in(world.outsider.user).get(reverse("jobs"))
    assert b"marked_stale: 5</a>" in other.content
