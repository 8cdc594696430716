"""Scheduling fixtures: a screening visit at study_site_a needing a room and a coordinator's
time, a lead that is ready to schedule, and a clock in the week before the US DST switch."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from leads.models import Lead, Status
from leads.services import lead_change_status
from scheduling.models import Resource, ResourceKind, VisitType, WeeklyHours
from tests.conftest import World
from tests.factories import new_lead
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite

# Monday 2 March 2026, 08:00 in Chicago (CST, UTC-6). US clocks go forward on Sunday 8 March.
MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def visit_type_at(
    study_site: StudySite, *, name: str = "Screening visit", minutes: int = 60
) -> VisitType:
    site = study_site.site
    room = Resource.objects.create(
        organization_id=site.organization_id, site=site, name=f"Room for {name}", kind="room"
    )
    nurse = Resource.objects.create(
        organization_id=site.organization_id,
        site=site,
        name=f"Nurse for {name}",
        kind=ResourceKind.STAFF,
    )
    visit_type = VisitType.objects.create(
        organization_id=site.organization_id,
        study_site=study_site,
        name=name,
        duration_minutes=minutes,
        preparation="Fast for 8 hours before the visit.",
    )
    visit_type.resources.set([room, nurse])
    return visit_type


def weekday_hours(site, opens: time = time(9), closes: time = time(12)) -> None:
    for weekday in range(1, 6):
        WeeklyHours.objects.create(
            organization_id=site.organization_id,
            site=site,
            weekday=weekday,
            opens_at=opens,
            closes_at=closes,
        )


def ready_lead(study_site: StudySite, **fields) -> Lead:
    """A lead moved by the leads services to ready to schedule."""
    lead = new_lead(study_site=study_site, **fields)
    actor = Actor(user=None)
    for status in (Status.PRESCREENING, Status.RECORDS_PENDING, Status.RECORDS_READY):
        lead = lead_change_status(lead=lead, status=status, actor=actor)
    return lead


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def visit_type(world: World) -> VisitType:
    weekday_hours(world.site_a)
    return visit_type_at(world.study_site_a)


@pytest.fixture
def visit_type_b(world: World) -> VisitType:
    return visit_type_at(world.study_site_b)


@pytest.fixture
def ready(world: World, clock) -> Lead:
    return ready_lead(world.study_site_a, person__first_name="Maria")
