"""A person's own copy of everything held about them: details and consent, leads, timeline,
web forms, opt-outs, messages, and the other apps' sections; JSON and a readable page, for site
leads and org admins, after a recent sign-in, audited."""

from __future__ import annotations

import json

import pytest

from leads import services
from leads.models import Channel
from tests.conftest import World, signed_in
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(world: World):
    actor = Actor(user=None)
    person = services.person_create(
        organization=world.org_a, actor=actor, first_name="Canary", last_name="Kowalczyk",
        phone="(312) 555-0199", email="canary.k@example.org",
    )  # fmt: skip
    lead = services.lead_create(
        person=person, study_site=world.study_site_a, source="web_form",
        owner=world.coordinator, actor=actor,
    )  # fmt: skip
    services.lead_add_note(lead=lead, text="Prefers Tuesday calls", actor=actor)
    services.person_record_opt_out(person=person, channel=Channel.SMS, actor=actor, at=None)
    return person


def test_the_json_holds_everything_and_is_audited(world: World, person):
    response = signed_in(world.site_lead.user).get(f"/people/{person.code}/export.json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="person-{person.code}.json"'
    data = json.loads(response.content)
    assert data["person"]["last_name"] == "Kowalczyk"
    assert data["person"]["email"] == "canary.k@example.org"
    sections = {s["title"]: s["rows"] for s in data["sections"]}
    assert {"Leads", "Timeline", "Web forms", "Opt-outs", "Messages sent", "Messages received",
            "Prescreens", "Medical records", "Visits"} <= set(sections)  # fmt: skip
    assert [row["study"] for row in sections["Leads"]] == [world.study_site_a.study.brief_title]
    assert "Prefers Tuesday calls" in [row["text"] for row in sections["Timeline"]]
    assert [row["channel"] for row in sections["Opt-outs"]] == [Channel.SMS]
    event = AuditEvent.objects.get(action="person.exported")
    assert (event.actor, event.object_id, event.reason) == (
        world.site_lead.user, str(person.code), "json",
    )  # fmt: skip


def test_the_readable_page_shows_the_same(world: World, person):
    page = signed_in(world.admin.user).get(f"/people/{person.code}/export/")
    text = page.content.decode()

    assert page.status_code == 200
    assert "Kowalczyk" in text
    assert "Prefers Tuesday calls" in text
    assert "Download it as JSON" in text
    assert "Date of birth" in text  # labels a reader expects, not the JSON keys


def test_a_coordinator_and_another_organization_get_nothing(world: World, person):
    assert (
        signed_in(world.coordinator.user).get(f"/people/{person.code}/export/").status_code == 403
    )
    assert (
        signed_in(world.outsider.user).get(f"/people/{person.code}/export.json").status_code == 404
    )
    assert not AuditEvent.objects.filter(action="person.exported").exists()


def test_an_old_sign_in_confirms_first(world: World, person, time_machine):
    time_machine.move_to(1_800_000_000, tick=False)
    client = signed_in(world.site_lead.user)
    client.get("/queue/")
    time_machine.shift(11 * 60)

    answer = client.get(f"/people/{person.code}/export.json")

    assert answer["Location"].startswith("/accounts/confirm/?next=")
