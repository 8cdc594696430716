"""An overdue records request shows in the queue's Waiting on records tab, with how overdue
and from whom; it clears when the record comes in. Overdue is read from the due dates as the
clock stands: nothing sweeps."""

from __future__ import annotations

import datetime
import re

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import ActionKind, Blocker, Lead
from records.models import Method, Provider
from records.services import provider_create, record_item_receive, record_item_request
from tests.conftest import World, signed_in
from tests.factories import new_lead
from tests.leads.conftest import actor_of
from tests.records.conftest import TODAY, fresh_lead, items_of, to_records

DAY = datetime.timedelta(days=1)
QUEUE_BUDGET = 10
WHY = re.compile(r'<tbody id="lead-([0-9a-f-]{36})".*?class="why">([^<]*)<', re.S)


def _reasons(client: Client, tab: str) -> dict[str, str]:
    body = client.get(reverse("queue"), {"tab": tab}).content.decode()
    return {code: why.strip() for code, why in WHY.findall(body)}


def _request(lead: Lead, name: str, provider: Provider, world: World, due_in: int) -> None:
    record_item_request(
        item=items_of(lead)[name],
        provider=provider,
        method=Method.FAX,
        requested_on=TODAY,
        due_on=TODAY + due_in * DAY,
        authorization_on_file=False,
        actor=actor_of(world, "coordinator"),
    )


def test_an_overdue_request_shows_how_overdue_and_from_whom_and_clears_when_received(
    world: World, records_lead: Lead, provider: Provider, clock: time_machine.Traveller
):
    for name in ("HbA1c", "Colonoscopy report"):
        _request(records_lead, name, provider, world, due_in=2)
    client = signed_in(world.coordinator.user)
    code = str(records_lead.code)

    assert _reasons(client, "records")[code] == "records due in 2 days · Denver Family Practice"
    assert code not in _reasons(client, "due")  # the chase is not due yet

    clock.move_to(datetime.datetime(2025, 6, 9, 15, 0, tzinfo=datetime.UTC))  # Monday
    client = signed_in(world.coordinator.user)  # days later: a new sign-in
    assert _reasons(client, "records")[code] == "records overdue 3 days · Denver Family Practice"
    assert code in _reasons(client, "due")
    lead = fresh_lead(records_lead)
    assert (lead.blocker, lead.next_action) == (Blocker.MISSING_RECORDS, ActionKind.CHASE_RECORDS)
    blocked = client.get(reverse("queue"), {"tab": "records", "blocker": "missing_records"})
    assert code in blocked.content.decode()

    for name in ("HbA1c", "Colonoscopy report"):
        record_item_receive(
            item=items_of(records_lead)[name],
            received_on=datetime.date(2025, 6, 9),
            record_date=datetime.date(2025, 5, 20),
            actor=actor_of(world, "coordinator"),
        )

    lead = fresh_lead(records_lead)
    assert lead.blocker == ""
    assert _reasons(client, "records")[code] == "review records due now"
    assert (
        code
        not in client.get(
            reverse("queue"), {"tab": "records", "blocker": "missing_records"}
        ).content.decode()
    )


def test_the_row_names_the_request_that_fell_due_first(
    world: World, records_lead: Lead, provider: Provider, clock: time_machine.Traveller
):
    other = provider_create(
        organization_id=world.org_a.pk,
        actor=actor_of(world),
        practice="Aurora GI Associates",
        email="records@aurora.example",
    )
    _request(records_lead, "HbA1c", provider, world, due_in=9)
    _request(records_lead, "Colonoscopy report", other, world, due_in=1)
    clock.move_to(datetime.datetime(2025, 6, 6, 15, 0, tzinfo=datetime.UTC))  # Friday

    reasons = _reasons(signed_in(world.coordinator.user), "records")

    assert reasons[str(records_lead.code)] == "records overdue 1 day · Aurora GI Associates"


def test_the_records_tab_costs_the_same_with_1_lead_as_with_40(
    world: World, records_lead: Lead, provider: Provider, clock: time_machine.Traveller
):
    _request(records_lead, "HbA1c", provider, world, due_in=1)
    client = signed_in(world.site_lead.user)
    url = f"{reverse('queue')}?tab=records"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)

    for i in range(40):
        lead = to_records(new_lead(study_site=world.study_site_a), world)
        if i % 2:
            _request(lead, "HbA1c", provider, world, due_in=i % 5)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(few) == len(many) <= QUEUE_BUDGET
    assert response.content.decode().count("· Denver Family Practice") == 21


def test_other_tabs_pay_nothing_for_records(
    world: World, records_lead: Lead, provider: Provider, clock: time_machine.Traveller
):
    _request(records_lead, "HbA1c", provider, world, due_in=1)
    client = signed_in(world.site_lead.user)
    client.get(reverse("queue"), {"tab": "open"})

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("queue"), {"tab": "open"})

    assert not any("records_recorditem" in q["sql"] for q in queries.captured_queries)
