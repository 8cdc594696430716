"""Suspected duplicates and their merge: nothing lost, everything audited."""

from __future__ import annotations

import datetime

from django.urls import reverse

from leads.intake import duplicates
from leads.models import Activity, Lead, OptOut, Person, Status
from leads.services import lead_add_note, person_record_opt_out
from tests.conftest import World, signed_in
from tests.factories import PersonFactory, new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

DOB = datetime.date(1961, 4, 12)


def _twins(world: World) -> tuple[Person, Person]:
    a = PersonFactory(organization=world.org_a, first_name="Maria", last_name="Gonzalez",
                      date_of_birth=DOB)  # fmt: skip
    b = PersonFactory(organization=world.org_a, first_name="María", last_name="Gonzales",
                      date_of_birth=DOB)  # fmt: skip
    return a, b


def test_a_similar_name_with_the_same_birth_date_is_suspected(world: World):
    a, b = _twins(world)
    PersonFactory(organization=world.org_a, first_name="John", last_name="Smith",
                  date_of_birth=DOB)  # fmt: skip
    PersonFactory(organization=world.org_b, first_name="Maria", last_name="Gonzalez",
                  date_of_birth=DOB)  # fmt: skip

    pairs = duplicates.suspected_pairs(world.org_a.pk)

    assert [(p.a.pk, p.b.pk) for p in pairs] == [(a.pk, b.pk)]
    assert pairs[0].score >= duplicates.SIMILAR


def test_the_duplicates_screen_lists_pairs_and_dismissing_removes_one(world: World):
    a, b = _twins(world)
    client = signed_in(world.site_lead.user)
    assert "Gonzales" in client.get(reverse("duplicate_list")).content.decode()

    client.post(reverse("person_not_duplicate", kwargs={"code": a.code, "other": b.code}))

    assert duplicates.suspected_pairs(world.org_a.pk) == []
    assert AuditEvent.objects.filter(action="person.not_duplicate").exists()


def test_a_merge_keeps_every_lead_activity_and_opt_out_and_deletes_nothing(world: World):
    a, b = _twins(world)
    actor = Actor(user=world.site_lead.user)
    kept_lead = new_lead(person=a, study_site=world.study_site_a)
    moved_lead = new_lead(person=b, study_site=world.study_site_a2)
    lead_add_note(lead=moved_lead, text="Asked about parking", actor=actor)
    person_record_opt_out(person=b, channel="sms", actor=actor, evidence="STOP")
    activities_before = Activity.objects.count()

    client = signed_in(world.site_lead.user)
    page = client.get(reverse("person_merge", kwargs={"code": a.code, "other": b.code}))
    assert "María" in page.content.decode()
    client.post(
        reverse("person_merge", kwargs={"code": a.code, "other": b.code}),
        {"first_name": "other", "last_name": "keep", "email": "other"},
    )

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.first_name, a.last_name, a.email) == ("María", "Gonzalez", b.email)
    assert b.merged_into_id == a.pk
    assert Person.objects.filter(pk=b.pk).exists()
    assert set(Lead.objects.filter(person=a).values_list("pk", flat=True)) == {
        kept_lead.pk,
        moved_lead.pk,
    }
    assert OptOut.objects.get().person_id == a.pk
    assert a.consent_sms is False
    assert Activity.objects.count() == activities_before + 1
    assert Activity.objects.filter(lead=moved_lead, text="Asked about parking").exists()
    merged = AuditEvent.objects.get(action="person.merged")
    assert merged.changes["merged_from"]["new"] == str(b.code)
    assert merged.changes["first_name"] == {"phi": True}
    assert AuditEvent.objects.filter(action="lead.person_merged", object_id=str(moved_lead.code))
    assert duplicates.suspected_pairs(world.org_a.pk) == []


def test_two_open_leads_for_one_study_after_a_merge_leave_one_open(world: World):
    a, b = _twins(world)
    first = new_lead(person=a, study_site=world.study_site_a)
    second = new_lead(person=b, study_site=world.study_site_a)

    duplicates.person_merge(keep=a, other=b, values={}, actor=Actor(user=world.site_lead.user))

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.NEW
    assert second.status == Status.CLOSED
    assert second.close_reason == "duplicate"
    assert str(first.code) in second.activities.get(kind="status_change").text


def test_another_organizations_people_are_a_404_and_coordinators_may_not_merge(world: World):
    a, b = _twins(world)
    outsider = signed_in(world.outsider.user)
    url = reverse("person_merge", kwargs={"code": a.code, "other": b.code})
    assert outsider.get(url).status_code == 404
    assert outsider.post(url).status_code == 404
    assert signed_in(world.coordinator.user).get(url).status_code == 403
    b.refresh_from_db()
    assert b.merged_into_id is None
