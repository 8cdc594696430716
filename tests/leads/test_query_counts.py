"""The queue and the lead page run a constant number of SQL queries, whatever the data.

Counts include everything the request does: the session, the user, the membership. Each page
is requested once before counting, because the first request after signing in also writes the
session (that one is counted separately). The budgets are the issue's: 10 for the queue, 12
for the lead page; and 5 leads must cost what 500 cost, 1 activity what 50 cost.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import Channel, CloseReason, Lead, Outcome, Status
from leads.services import (
    lead_add_note,
    lead_change_status,
    lead_log_attempt,
    person_record_opt_out,
    saved_view_create,
)
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, new_lead
from tests.leads.conftest import actor_of
from trialsnest.tenancy.models import Role

QUEUE_BUDGET = 10
LEAD_PAGE_BUDGET = 12
PERSONAS = ("coordinator", "site_lead", "admin")
HTMX = {"HX-Request": "true"}


def count(client: Client, url: str, headers: dict[str, str] | None = None) -> int:
    client.get(url, headers=headers)  # the session is written at most once a minute, not counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return len(queries)


def _grow(world: World, n: int) -> list[Lead]:
    """`n` more leads across both StudySites, owners, statuses and blockers."""
    actor = actor_of(world)
    extra = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    # Owners are given (not chosen by the rule) only to make 500 leads quicker to build.
    placements = [
        (world.study_site_a, world.coordinator),
        (world.study_site_a, extra),
        (world.study_site_a2, world.site_lead),
        (world.study_site_a2, extra),
    ]
    leads = []
    for i in range(n):
        study_site, owner = placements[i % len(placements)]
        lead = new_lead(study_site=study_site, owner=owner, person__last_name="Okafor")
        if i % 10 == 1:
            lead = lead_log_attempt(
                lead=lead, channel=Channel.PHONE, outcome=Outcome.NO_ANSWER, actor=actor
            )
        elif i % 10 == 2:
            lead = lead_change_status(lead=lead, status=Status.PRESCREENING, actor=actor)
        elif i % 10 == 3:
            lead = lead_change_status(
                lead=lead, status=Status.CLOSED, close_reason=CloseReason.DUPLICATE, actor=actor
            )
        leads.append(lead)
    return leads


QUEUE_URLS: dict[str, Callable[[World], tuple[str, dict[str, str]]]] = {
    "due now": lambda world: (reverse("queue"), {}),
    "all open": lambda world: (f"{reverse('queue')}?tab=open", {}),
    "filtered": lambda world: (
        f"{reverse('queue')}?tab=open&owner=me&status=new&site={world.site_a.code}",
        {},
    ),
    "tabs fragment": lambda world: (
        f"{reverse('queue')}?tab=new",
        {**HTMX, "HX-Target": "tabs"},
    ),
    "search": lambda world: (f"{reverse('queue_search')}?q=Okaf", {}),
    "search fragment": lambda world: (f"{reverse('queue_search')}?q=okafor", HTMX),
}


def _queue_counts(world: World) -> dict[tuple[str, str], int]:
    counts = {}
    for persona in PERSONAS:
        client = signed_in(getattr(world, persona).user)
        for name, url_of in QUEUE_URLS.items():
            url, headers = url_of(world)
            counts[persona, name] = count(client, url, headers)
    return counts


def test_the_queue_stays_within_budget_with_django_assert_max_num_queries(
    world: World, django_assert_max_num_queries
):
    _grow(world, 60)  # more than a page of open leads
    client = signed_in(world.site_lead.user)
    client.get(reverse("queue"))

    with django_assert_max_num_queries(QUEUE_BUDGET):
        response = client.get(reverse("queue"), {"tab": "open"})

    assert response.context["more_url"]


def test_show_more_costs_the_same_on_every_page(world: World):
    _grow(world, 125)
    client = signed_in(world.admin.user)
    first = client.get(reverse("queue"), {"tab": "open"})
    second_url = reverse("queue") + first.context["more_url"]
    third_url = reverse("queue") + client.get(second_url).context["more_url"]

    assert count(client, second_url, HTMX) == count(client, third_url, HTMX)
    assert count(client, second_url, HTMX) <= QUEUE_BUDGET


def test_the_first_queue_page_after_signing_in_also_stays_within_budget(world: World):
    _grow(world, 5)
    client = signed_in(world.coordinator.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("queue"))

    assert response.status_code == 200
    # The session write runs in a transaction; inside the test's own transaction that becomes
    # SAVEPOINT / RELEASE statements a production request does not send.
    real = [q for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(real) <= QUEUE_BUDGET, [q["sql"][:80] for q in real]


# The lead page -----------------------------------------------------------------------------


def _lead_page_counts(world: World, lead: Lead) -> dict[tuple[str, str], int]:
    counts = {}
    for persona in PERSONAS:
        client = signed_in(getattr(world, persona).user)
        counts[persona, "page"] = count(client, reverse("lead_detail", kwargs={"code": lead.code}))
        for action in ("attempt", "assign", "status"):
            url = reverse("lead_action", kwargs={"code": lead.code, "action": action})
            counts[persona, action] = count(client, f"{url}?in=queue", HTMX)
    return counts


def test_the_lead_page_costs_the_same_with_1_activity_as_with_50(world: World):
    lead = new_lead(study_site=world.study_site_a)
    actor = actor_of(world, "coordinator")
    few = _lead_page_counts(world, lead)

    for i in range(48):
        lead_add_note(lead=lead, text=f"Note {i}", actor=actor)
    lead = lead_log_attempt(
        lead=lead, channel=Channel.PHONE, outcome=Outcome.NO_ANSWER, actor=actor
    )
    for channel in (Channel.SMS, Channel.EMAIL):
        person_record_opt_out(person=lead.person, channel=channel, actor=actor, at=None)
    for _ in range(3):
        new_lead(study_site=world.study_site_a2, person=lead.person)
    assert lead.activities.count() >= 50
    many = _lead_page_counts(world, lead)

    assert many == few
    assert max(many.values()) <= LEAD_PAGE_BUDGET, many


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_lead_page_stays_within_budget_with_django_assert_max_num_queries(
    world: World, persona: str, django_assert_max_num_queries
):
    lead = new_lead(study_site=world.study_site_a)
    for i in range(50):
        lead_add_note(lead=lead, text=f"Note {i}", actor=actor_of(world))
    client = signed_in(getattr(world, persona).user)
    url = reverse("lead_detail", kwargs={"code": lead.code})
    client.get(url)

    with django_assert_max_num_queries(LEAD_PAGE_BUDGET):
        response = client.get(url)

    assert response.status_code == 200


# 5 leads and 500 ---------------------------------------------------------------------------


def test_the_queue_and_the_lead_page_cost_the_same_with_5_leads_as_with_500(world: World):
    saved_view_create(
        membership=world.coordinator,
        name="Mine",
        query="tab=new",
        shared=True,
        actor=actor_of(world),
    )
    [lead] = [lead for lead in _grow(world, 5) if lead.study_site == world.study_site_a][:1]
    few = {**_queue_counts(world), **_lead_page_counts(world, lead)}
    _grow(world, 495)
    assert Lead.objects.count() == 500

    many = {**_queue_counts(world), **_lead_page_counts(world, lead)}

    assert many == few
    queue = {key: n for key, n in many.items() if key[1] in QUEUE_URLS}
    lead_page = {key: n for key, n in many.items() if key[1] not in QUEUE_URLS}
    assert max(queue.values()) <= QUEUE_BUDGET, queue
    assert max(lead_page.values()) <= LEAD_PAGE_BUDGET, lead_page
