"""The action forms offer only what can happen: a terminal lead says so, "visit scheduled" waits
for a booked visit, and a contact attempt has no outcome until the coordinator picks one."""

from __future__ import annotations

import html
import re

from django.test import Client
from django.urls import reverse

from leads.models import ActivityKind, CloseReason, Lead, Status
from leads.services import lead_change_status
from tests.conftest import World, signed_in
from tests.leads.conftest import actor_of, fresh

HTMX = {"HX-Request": "true"}


def _form(client: Client, lead: Lead, action: str, **headers: str) -> str:
    url = reverse("lead_action", kwargs={"code": lead.code, "action": action})
    response = client.get(f"{url}?in=queue", headers=headers or None)
    assert response.status_code == 200
    return response.content.decode()


def _options(body: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', body, re.S)
    assert select is not None, f"no {name} select"
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def _selected(body: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', body, re.S)
    assert select is not None, f"no {name} select"
    return re.findall(r'<option value="([^"]*)" selected', select.group(0))


def _move(lead: Lead, *statuses: str, world: World) -> Lead:
    for status in statuses:
        lead = lead_change_status(lead=lead, status=status, actor=actor_of(world))
    return lead


def test_a_handed_off_leads_status_form_says_there_is_nothing_to_change(world: World, lead: Lead):
    lead = _move(
        lead,
        Status.PRESCREENING,
        Status.RECORDS_PENDING,
        Status.RECORDS_READY,
        Status.VISIT_SCHEDULED,
        Status.HANDED_OFF,
        world=world,
    )
    client = signed_in(world.coordinator.user)

    for headers in ({}, HTMX):
        body = _form(client, lead, "status", **headers)
        assert "handed off to the study team" in html.unescape(body)
        assert "<select" not in body
        assert '<button type="submit">Save</button>' not in body

    page = client.get(reverse("lead_detail", kwargs={"code": lead.code})).content.decode()
    assert "Change status" not in page
    assert "Reopen" not in page


def test_other_actions_on_a_closed_lead_say_to_reopen_it_first(world: World, lead: Lead):
    lead = lead_change_status(
        lead=lead, status=Status.CLOSED, close_reason=CloseReason.DUPLICATE, actor=actor_of(world)
    )

    body = html.unescape(_form(signed_in(world.coordinator.user), lead, "snooze"))

    assert "This lead is closed. Reopen it" in body
    assert 'name="until"' not in body


def test_visit_scheduled_is_not_offered_by_hand(world: World, lead: Lead):
    lead = _move(
        lead, Status.PRESCREENING, Status.RECORDS_PENDING, Status.RECORDS_READY, world=world
    )
    client = signed_in(world.coordinator.user)

    body = _form(client, lead, "status")

    assert _options(body, "status") == ["", Status.CLOSED]
    assert "Visit scheduled is set when a visit is booked" in body


def test_a_posted_visit_scheduled_is_refused_and_changes_nothing(world: World, lead: Lead):
    lead = _move(
        lead, Status.PRESCREENING, Status.RECORDS_PENDING, Status.RECORDS_READY, world=world
    )
    url = reverse("lead_action", kwargs={"code": lead.code, "action": "status"})

    response = signed_in(world.coordinator.user).post(
        url, {"status": Status.VISIT_SCHEDULED, "version": str(lead.version)}
    )

    assert response.status_code == 422
    assert fresh(lead).status == Status.RECORDS_READY


def test_the_status_form_starts_with_no_status_chosen(world: World, lead: Lead):
    body = _form(signed_in(world.coordinator.user), lead, "status")

    assert _options(body, "status") == ["", Status.CONTACTING, Status.PRESCREENING, Status.CLOSED]
    assert _selected(body, "status") == [""]
    assert "Reason (needed to reopen)" not in body


def test_a_contact_attempt_has_no_outcome_until_one_is_picked(world: World, lead: Lead):
    client = signed_in(world.coordinator.user)
    body = _form(client, lead, "attempt")

    assert _options(body, "outcome")[0] == ""
    assert _selected(body, "outcome") == [""]

    url = reverse("lead_action", kwargs={"code": lead.code, "action": "attempt"})
    response = client.post(
        url,
        {"channel": "phone", "direction": "outbound", "version": str(lead.version)},
    )

    assert response.status_code == 422
    assert "Pick the outcome of the attempt." in response.content.decode()
    assert not lead.activities.filter(kind=ActivityKind.CONTACT_ATTEMPT).exists()
    assert fresh(lead).first_contact_at is None


def test_the_lead_pages_attempt_form_has_no_outcome_chosen_either(world: World, lead: Lead):
    page = signed_in(world.coordinator.user).get(reverse("lead_detail", kwargs={"code": lead.code}))

    assert _selected(page.content.decode(), "outcome") == [""]
