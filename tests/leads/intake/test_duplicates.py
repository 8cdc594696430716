"""What the duplicates page asks a human about, by the one identity rule, and "different people"."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.intake import duplicates
from leads.models import DuplicateDismissal, Person, SuspectedDuplicate
from tests.conftest import World, signed_in
from tests.factories import PersonFactory, SuspectedDuplicateFactory, new_lead
from trialsnest.audit.models import AuditEvent

DOB = datetime.date(1961, 4, 12)
HTMX = {"HX-Request": "true"}


def _twins(world: World) -> tuple[Person, Person]:
    a = PersonFactory(organization=world.org_a, first_name="Maria", last_name="Gonzalez",
                      date_of_birth=DOB)  # fmt: skip
    b = PersonFactory(organization=world.org_a, first_name="María", last_name="Gonzales",
                      date_of_birth=DOB)  # fmt: skip
    return a, b


def _suspicion(world: World, **fields) -> SuspectedDuplicate:
    """Linda, and Walker who gave Linda's phone: flagged by intake, with a lead each."""
    linda = new_lead(
        study_site=world.study_site_a,
        person__first_name="Linda",
        person__last_name="Martinez",
        person__date_of_birth=DOB,
    ).person
    walker_lead = new_lead(
        study_site=world.study_site_a2,
        person__first_name="Walker",
        person__last_name="Englishtest",
        person__phone=linda.phone,
    )
    return SuspectedDuplicateFactory(
        person=walker_lead.person, matched=linda, lead=walker_lead, **fields
    )


def test_a_similar_name_with_the_same_birth_date_is_suspected(world: World):
    a, b = _twins(world)
    PersonFactory(organization=world.org_a, first_name="John", last_name="Smith",
                  date_of_birth=DOB)  # fmt: skip
    PersonFactory(organization=world.org_b, first_name="Maria", last_name="Gonzalez",
                  date_of_birth=DOB)  # fmt: skip

    pairs = duplicates.suspected_pairs(world.org_a.pk)

    assert [(p.a.pk, p.b.pk) for p in pairs] == [(a.pk, b.pk)]


def test_twins_with_one_birth_date_are_not_suggested_because_the_identity_rule_says_so(
    world: World,
):
    # "carlos martinez" and "carla martinez" look alike as whole strings, but the first names
    # are not compatible by leads.intake.identity: the same rule as intake, not another one.
    PersonFactory(organization=world.org_a, first_name="Carlos", last_name="Martinez",
                  date_of_birth=DOB)  # fmt: skip
    PersonFactory(organization=world.org_a, first_name="Carla", last_name="Martinez",
                  date_of_birth=DOB)  # fmt: skip
    a = PersonFactory(organization=world.org_a, first_name="J", last_name="Núñez",
                      date_of_birth=DOB)  # fmt: skip
    b = PersonFactory(organization=world.org_a, first_name="José", last_name="Nunez",
                      date_of_birth=DOB)  # fmt: skip

    assert [(p.a, p.b) for p in duplicates.suspected_pairs(world.org_a.pk)] == [(a, b)]


def test_the_duplicates_screen_lists_pairs_and_dismissing_removes_one(world: World):
    a, b = _twins(world)
    client = signed_in(world.site_lead.user)
    assert "Gonzales" in client.get(reverse("duplicate_list")).content.decode()

    client.post(reverse("person_not_duplicate", kwargs={"code": a.code, "other": b.code}))

    assert duplicates.suspected_pairs(world.org_a.pk) == []
    assert AuditEvent.objects.filter(action="person.not_duplicate").exists()


def test_the_page_lists_open_suspicions_newest_first_with_both_people_and_their_leads(
    world: World,
):
    older = _suspicion(world)
    newer = SuspectedDuplicateFactory(
        matched__organization=world.org_a,
        matched__first_name="Ann",
        person__first_name="Bob",
        reason="shares a phone or e-mail with a person born on another date",
    )
    resolved = SuspectedDuplicateFactory(matched__organization=world.org_a,
                                         person__first_name="Zoe")  # fmt: skip
    SuspectedDuplicate.objects.filter(pk=resolved.pk).update(resolved_at=older.created_at)

    response = signed_in(world.admin.user).get(reverse("duplicate_list"))

    body = response.content.decode()
    assert [r.suspicion for r in response.context["reviews"]] == [newer, older]
    assert body.index("born on another date") < body.index("of another name")
    assert "Zoe" not in body
    linda, walker, lead = older.matched, older.person, older.lead
    assert linda is not None
    assert lead is not None
    for text in ("Walker Englishtest", "Linda Martinez", linda.phone, linda.email, walker.email,
                 "1961-04-12", lead.study_site.site.name, "(this interest)"):  # fmt: skip
        assert text in body, text
    for keep, other in ((walker, linda), (linda, walker)):
        assert reverse("person_merge", kwargs={"code": keep.code, "other": other.code}) in body


def test_the_page_costs_the_same_queries_for_one_suspicion_or_many(
    world: World, django_assert_max_num_queries
):
    client = signed_in(world.site_lead.user)
    _suspicion(world)
    client.get(reverse("duplicate_list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("duplicate_list"))
    for _ in range(5):
        SuspectedDuplicateFactory(matched__organization=world.org_a)

    with django_assert_max_num_queries(len(one)):
        client.get(reverse("duplicate_list"))


def test_different_people_resolves_the_suspicion_audited_and_suggests_them_no_more(
    world: World,
):
    suspicion = _suspicion(world)
    client = signed_in(world.site_lead.user)

    response = client.post(reverse("suspicion_dismiss", kwargs={"code": suspicion.code}))

    assert response.status_code == 302
    suspicion.refresh_from_db()
    assert suspicion.resolution == SuspectedDuplicate.Resolution.DISMISSED
    assert suspicion.resolved_by == world.site_lead.user
    assert suspicion.resolved_at is not None
    assert DuplicateDismissal.objects.filter(organization=world.org_a).count() == 1
    event = AuditEvent.objects.get(action="person.not_duplicate")
    assert event.actor == world.site_lead.user
    assert event.changes["suspicions_resolved"]["new"] == [str(suspicion.code)]
    assert duplicates.open_suspicions(world.org_a.pk) == []
    assert "Marked as different people" in client.get(reverse("duplicate_list")).content.decode()
    # Saying it twice changes nothing more.
    again = client.post(reverse("suspicion_dismiss", kwargs={"code": suspicion.code}))
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action="person.not_duplicate").count() == 1


def test_with_htmx_dismissing_answers_the_reviewed_card_only(world: World):
    suspicion = _suspicion(world)

    response = signed_in(world.site_lead.user).post(
        reverse("suspicion_dismiss", kwargs={"code": suspicion.code}), headers=HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f'id="suspicion-{suspicion.code}"' in body
    assert "Marked as different people" in body


def test_another_organizations_suspicion_is_a_404_and_stays_open(world: World):
    suspicion = _suspicion(world)
    url = reverse("suspicion_dismiss", kwargs={"code": suspicion.code})

    assert signed_in(world.outsider.user).post(url).status_code == 404
    assert signed_in(world.outsider.user).post(url, headers=HTMX).status_code == 404
    assert signed_in(world.coordinator.user).post(url).status_code == 403
    suspicion.refresh_from_db()
    assert suspicion.resolved_at is None
    outsiders_page = signed_in(world.outsider.user).get(reverse("duplicate_list"))
    assert "Walker" not in outsiders_page.content.decode()
