"""The audit log page and its CSV for site leads: this organization's events only, filters,
pages by id, ids and field names but never a person's details; refused authorisations and the
export itself are events too."""

from __future__ import annotations

import pytest

from leads.models import Person
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _event(world: World, action: str = "lead.note_added", **fields) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=world.org_a, actor=world.coordinator.user, action=action, **fields
    )


def test_a_site_lead_sees_this_organizations_events_and_not_anothers(world: World):
    _event(world, object_type="lead", object_id="lead-a")
    AuditEvent.objects.create(organization=world.org_b, action="lead.note_added", object_id="b")

    page = signed_in(world.site_lead.user).get("/audit/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "lead-a" in text
    assert ">b<" not in text


def test_filters_narrow_by_who_what_record_and_day(world: World):
    _event(world, "lead.note_added", object_id="one")
    _event(world, "person.merged", object_id="two")
    client = signed_in(world.site_lead.user)

    by_action = client.get("/audit/", {"action": "person."}).content.decode()
    by_record = client.get("/audit/", {"record": "one"}).content.decode()
    by_actor = client.get("/audit/", {"actor": "nobody-such"}).content.decode()
    backwards = client.get("/audit/", {"start": "2026-05-02", "end": "2026-05-01"})

    assert "two" in by_action
    assert ">one<" not in by_action
    assert "one" in by_record
    assert "Nothing matches these filters." in by_actor
    assert "The last day comes after the first." in backwards.content.decode()


def test_it_pages_by_id(world: World):
    AuditEvent.objects.bulk_create(
        AuditEvent(organization=world.org_a, action="lead.viewed", object_id=f"r{i}")
        for i in range(105)
    )
    client = signed_in(world.site_lead.user)
    first = client.get("/audit/", {"action": "lead.viewed"})
    assert len(first.context["events"]) == 100
    older = first.context["older"]

    second = client.get("/audit/", {"action": "lead.viewed", "before": older})

    assert len(second.context["events"]) == 5
    assert second.context["older"] is None


def test_no_persons_details_appear(world: World):
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    person = lead.person
    client = signed_in(world.admin.user)

    page = client.get("/audit/").content.decode()
    streamed = client.get("/audit/export.csv").streaming_content  # type: ignore[attr-defined]
    export = b"".join(streamed).decode()

    assert str(lead.code) in page  # the lead's creation is there, by its id
    details = [v for v in (person.first_name, person.last_name, person.phone, person.email) if v]
    assert details
    for text in (page, export):
        assert not [value for value in details if value in text]


def test_the_export_is_formula_safe_and_audited(world: World):
    _event(world, reason='=HYPERLINK("http://evil")')
    response = signed_in(world.site_lead.user).get("/audit/export.csv", {"action": "lead."})

    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert response["Content-Type"] == "text/csv"
    assert body.splitlines()[0].startswith("at (UTC),who,action")
    assert "'=HYPERLINK" in body
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor == world.site_lead.user
    assert exported.reason == "action=lead."


def test_a_refused_page_and_another_organizations_lead_are_events(world: World):
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    assert signed_in(world.coordinator.user).get("/dashboard/").status_code == 403
    assert signed_in(world.outsider.user).get(f"/leads/{lead.code}/").status_code == 404

    refused = AuditEvent.objects.filter(action="access.refused").order_by("pk")
    assert [(e.actor, e.organization, e.reason) for e in refused] == [
        (world.coordinator.user, world.org_a, "403 GET /dashboard/"),
        (world.outsider.user, world.org_b, f"404 GET /leads/{lead.code}/"),
    ]


def test_each_view_of_a_lead_is_an_event_and_site_leads_see_who_looked(world: World):
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    coordinator = signed_in(world.coordinator.user)
    page = coordinator.get(f"/leads/{lead.code}/")
    assert "Who has looked at this lead" not in page.content.decode()

    viewed = AuditEvent.objects.get(action="lead.viewed")
    assert (viewed.actor, viewed.organization, viewed.object_id) == (
        world.coordinator.user,
        world.org_a,
        str(lead.code),
    )
    site_lead = signed_in(world.site_lead.user)
    link = f"/audit/?record={lead.code}&amp;action=lead.viewed"
    assert link in site_lead.get(f"/leads/{lead.code}/").content.decode()
    lookers = site_lead.get("/audit/", {"record": str(lead.code), "action": "lead.viewed"})
    text = lookers.content.decode()
    assert world.coordinator.user.email in text
    assert world.site_lead.user.email in text


def test_a_search_is_an_event_naming_the_leads_it_showed_but_not_what_was_typed(world: World):
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    Person.objects.filter(pk=lead.person_id).update(last_name="Quillfeather")
    coordinator = signed_in(world.coordinator.user)
    assert "Quillfeather" in coordinator.get("/queue/search/", {"q": "Quillfeather"}).text
    coordinator.get("/queue/search/", {"q": "q"})  # too short to search: no event

    searched = AuditEvent.objects.get(action="lead.searched")
    assert (searched.actor, searched.organization) == (world.coordinator.user, world.org_a)
    assert searched.changes == {"results": 1, "leads": [str(lead.code)]}
    assert "Quillfeather" not in str(AuditEvent.objects.values_list())
