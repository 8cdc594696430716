"""Records fixtures: a checklist at study_site_a, a provider of org A, a lead at the records
step. The clock is a Wednesday in June 2025, 10:00 in Chicago (every test site's zone)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine

from leads.models import Lead, Status
from leads.services import lead_change_status
from records.models import Provider, RecordItem, RecordRequirement
from records.services import provider_create, requirement_create
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.conftest import WEDNESDAY_10AM, actor_of

TODAY = datetime.date(2025, 6, 4)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(WEDNESDAY_10AM, tick=False) as traveller:
        yield traveller


@pytest.fixture
def checklist(world: World, clock: time_machine.Traveller) -> list[RecordRequirement]:
    """HbA1c within 90 days and a colonoscopy report (required), an allergy list (optional)."""
    actor = actor_of(world)
    return [
        requirement_create(
            study_site=world.study_site_a,
            name=name,
            required=required,
            lookback_days=days,
            instructions=text,
            actor=actor,
        )
        for name, required, days, text in [
            ("HbA1c", True, 90, "The most recent HbA1c lab result."),
            ("Colonoscopy report", True, None, ""),
            ("Allergy list", False, None, ""),
        ]
    ]


@pytest.fixture
def provider(world: World) -> Provider:
    return provider_create(
        organization_id=world.org_a.pk,
        actor=actor_of(world),
        practice="Denver Family Practice",
        fax="+13035550199",
    )


def to_records(lead: Lead, world: World) -> Lead:
    """Through prescreening to the records step, as a coordinator would move it."""
    actor = actor_of(world, "coordinator")
    lead = lead_change_status(lead=lead, status=Status.PRESCREENING, actor=actor)
    return lead_change_status(lead=lead, status=Status.RECORDS_PENDING, actor=actor)


@pytest.fixture
def records_lead(world: World, checklist: list[RecordRequirement]) -> Lead:
    lead = new_lead(study_site=world.study_site_a, person__first_name="Maria")
    return to_records(lead, world)


def items_of(lead: Lead) -> dict[str, RecordItem]:
    items = RecordItem.objects.filter(lead=lead).select_related("requirement", "provider")
    return {item.requirement.name: item for item in items}


def fresh_lead(lead: Lead) -> Lead:
    return Lead.objects.select_related("study_site__site", "person").get(pk=lead.pk)


@pytest.fixture
def lead(world: World) -> Lead:
    """A new lead at study_site_a, before the records step."""
    return new_lead(study_site=world.study_site_a, person__first_name="Ana")
