"""Real races on real connections: optimistic concurrency and fair assignment under load."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from leads.models import ActivityKind, Channel, Lead, Outcome, Source, Status
from leads.services import (
    LeadConflict,
    lead_add_note,
    lead_change_status,
    lead_create,
    lead_log_attempt,
    person_create,
)
from tests.conftest import World
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SiteFactory,
    StudySiteFactory,
    new_lead,
)
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Role


def _race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released together; each answers "won", "conflict" or its error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            job()
            results[index] = "won"
        except LeadConflict:
            results[index] = "conflict"
        except Exception as error:  # reported by the assertion, not lost
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_the_same_lead_at_once_one_wins_and_the_other_gets_a_conflict(
    world: World,
):
    lead = new_lead(study_site=world.study_site_a)
    coordinator = Actor(user=world.coordinator.user)
    site_lead = Actor(user=world.site_lead.user)

    for round_ in range(3):
        seen = Lead.objects.get(pk=lead.pk).version

        theirs = partial(
            lead_log_attempt,
            lead=lead,
            channel=Channel.PHONE,
            outcome=Outcome.NO_ANSWER,
            version=seen,
            actor=coordinator,
        )
        if round_ == 0:
            mine = partial(
                lead_change_status,
                lead=lead,
                status=Status.PRESCREENING,
                version=seen,
                actor=site_lead,
            )
        else:
            mine = partial(
                lead_log_attempt,
                lead=lead,
                channel=Channel.SMS,
                outcome=Outcome.NO_ANSWER,
                version=seen,
                actor=site_lead,
            )

        results = _race(theirs, mine)

        assert sorted(results, key=str) == ["conflict", "won"], results
        assert Lead.objects.get(pk=lead.pk).version == seen + 1


@pytest.mark.django_db(transaction=True)
def test_the_loser_of_a_race_changed_nothing(world: World):
    lead = new_lead(study_site=world.study_site_a)
    actor = Actor(user=world.coordinator.user)

    results = _race(
        *[
            lambda: lead_log_attempt(
                lead=lead,
                channel=Channel.PHONE,
                outcome=Outcome.NO_ANSWER,
                version=1,
                actor=actor,
            )
            for _ in range(4)
        ]
    )

    assert Counter(results) == {"won": 1, "conflict": 3}, results
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.version, lead.attempts) == (2, 1)
    assert lead.activities.filter(kind=ActivityKind.CONTACT_ATTEMPT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_notes_added_at_the_same_moment_never_conflict(world: World):
    lead = new_lead(study_site=world.study_site_a)
    actor = Actor(user=world.coordinator.user)

    results = _race(*[lambda: lead_add_note(lead=lead, text="Called", actor=actor)] * 3)

    assert results == ["won"] * 3
    assert lead.activities.filter(kind=ActivityKind.NOTE).count() == 3


@pytest.mark.django_db(transaction=True)
def test_500_leads_from_8_threads_end_spread_within_one_lead_among_4_coordinators():
    organization = OrganizationFactory()
    study_site = StudySiteFactory(site=SiteFactory(organization=organization))
    MembershipFactory(organization=organization, role=Role.SITE_LEAD)
    coordinators = [
        MembershipFactory(organization=organization, role=Role.COORDINATOR) for _ in range(4)
    ]
    actor = Actor(user=None)
    # Different starting loads: 0, 4, 9 and 20 open leads.
    for coordinator, load in zip(coordinators, (0, 4, 9, 20), strict=True):
        for _ in range(load):
            new_lead(study_site=study_site, owner=coordinator)
    threads, per_thread = 8, [63, 63, 63, 63, 62, 62, 62, 62]
    assert sum(per_thread) == 500

    def intake(thread: int) -> Callable[[], None]:
        def job() -> None:
            own_study_site = StudySite.objects.select_related("site").get(pk=study_site.pk)
            for n in range(per_thread[thread]):
                person = person_create(
                    organization=organization,
                    actor=actor,
                    first_name=f"T{thread}",
                    last_name=f"N{n}",
                    email=f"t{thread}-{n}@example.com",
                )
                lead_create(
                    person=person, study_site=own_study_site, source=Source.WEB_FORM, actor=actor
                )

        return job

    results = _race(*[intake(t) for t in range(threads)])

    assert results == ["won"] * threads
    totals = Counter(
        Lead.objects.filter(study_site=study_site, status=Status.NEW).values_list(
            "owner_id", flat=True
        )
    )
    assert set(totals) == {c.pk for c in coordinators}, "every lead went to a coordinator"
    assert sum(totals.values()) == 500 + 33
    assert max(totals.values()) - min(totals.values()) <= 1, totals
