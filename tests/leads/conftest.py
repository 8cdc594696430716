"""Helpers for the lead tests: a fixed clock, the actor of a persona, a lead at study_site_a."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from leads.models import Lead
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.visitors import new_visitor
from trialsnest.audit.services import Actor

# A Wednesday, 10:00 in Chicago (the time zone of every test site): inside business hours.
WEDNESDAY_10AM = datetime(2025, 6, 4, 15, 0, tzinfo=UTC)


def actor_of(world: World, persona: str = "site_lead") -> Actor:
    return Actor(user=getattr(world, persona).user)


@pytest.fixture
def lead(world: World) -> Lead:
    """A new lead at study_site_a, owned by the coordinator (the only one who can take it)."""
    return new_lead(study_site=world.study_site_a, person__first_name="Maria")


def fresh(lead: Lead) -> Lead:
    return Lead.objects.select_related("person", "study_site__site", "owner").get(pk=lead.pk)


@pytest.fixture
def visitor() -> Client:
    """An anonymous visitor of the public pages, with an address of its own."""
    return new_visitor()
