"""The lead page and its records panel cost the same number of queries with 1 record item as
with 30 (the issue's budget: 12)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import Lead
from records.models import Method, Provider
from records.services import record_item_receive, record_item_request, requirement_create
from tests.conftest import World, signed_in
from tests.factories import new_lead
from tests.leads.conftest import actor_of
from tests.records.conftest import TODAY, items_of, to_records

LEAD_PAGE_BUDGET = 12
HTMX = {"HX-Request": "true"}


def _checklist(world: World, start: int, n: int) -> None:
    for i in range(start, start + n):
        requirement_create(
            study_site=world.study_site_a, name=f"Record {i}", required=i % 3 != 0,
            lookback_days=90 if i % 2 else None, instructions="", actor=actor_of(world),
        )  # fmt: skip


def _counts(world: World, lead: Lead) -> dict[str, int]:
    client = signed_in(world.coordinator.user)
    urls = {
        "page": (reverse("lead_detail", kwargs={"code": lead.code}), {}),
        "panel": (reverse("lead_records", kwargs={"code": lead.code}), HTMX),
        "letters": (reverse("records_letters", kwargs={"code": lead.code}), {}),
    }
    counts = {}
    for name, (url, headers) in urls.items():
        client.get(url, headers=headers)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, headers=headers).status_code == 200
        counts[name] = len(queries)
    return counts


def _work(world: World, lead: Lead, provider: Provider) -> None:
    """Every other item requested, every fourth received."""
    for i, item in enumerate(items_of(lead).values()):
        if i % 2:
            continue
        record_item_request(
            item=item, provider=provider, method=Method.FAX, requested_on=TODAY,
            due_on=TODAY + datetime.timedelta(days=i), authorization_on_file=True,
            actor=actor_of(world),
        )  # fmt: skip
        if i % 4 == 0:
            record_item_receive(
                item=item, received_on=TODAY, record_date=TODAY, actor=actor_of(world)
            )


def test_the_lead_page_costs_the_same_with_1_record_item_as_with_30(
    world: World, provider: Provider, clock
):
    _checklist(world, 0, 1)
    one = to_records(new_lead(study_site=world.study_site_a), world)
    _work(world, one, provider)
    few = _counts(world, one)

    _checklist(world, 1, 29)
    many_lead = to_records(new_lead(study_site=world.study_site_a), world)
    _work(world, many_lead, provider)
    many = _counts(world, many_lead)

    assert len(items_of(many_lead)) == 30
    assert few == many
    assert many["page"] <= LEAD_PAGE_BUDGET, many
