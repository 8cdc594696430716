"""Households share phones and e-mail addresses: a contact match is the same person only when
the name (or the date of birth) agrees, on every door."""

from __future__ import annotations

import datetime

import pytest

from leads.intake.identity import Who, same_person
from leads.models import Lead, Person, SuspectedDuplicate
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.api.conftest import lead_body, make_key, post_lead
from tests.leads.visitors import interest_form, new_visitor

BORN = datetime.date(1961, 5, 2)


@pytest.mark.parametrize(
    ("incoming", "known", "same"),
    [
        (Who("Linda", "Martinez"), Who("linda", "MARTINEZ"), True),
        (Who("José", "Núñez"), Who("Jose", "Nunez"), True),
        (Who("L", "Martinez"), Who("Linda", "Martinez"), True),
        (Who("Lynda", "Martinez"), Who("Linda", "Martinez"), True),
        (Who("Linda", ""), Who("Linda", "Martinez"), True),
        (Who("Walker", "Englishtest"), Who("Linda", "Martinez"), False),
        (Who("Carlos", "Martinez"), Who("Linda", "Martinez"), False),
        (Who("Linda", "Martinez", BORN), Who("Linda", "Martinez", BORN.replace(year=1990)), False),
        (Who("Lin", "Martinez-Ruiz", BORN), Who("Linda", "Martinez", BORN), True),
    ],
)
def test_the_identity_rule(incoming: Who, known: Who, same: bool):
    assert same_person(incoming, known) is same


def _linda(world: World) -> Person:
    lead = new_lead(
        study_site=world.study_site_a2,
        person__first_name="Linda",
        person__last_name="Martinez",
        person__phone="+13122630142",
        person__email="linda@example.com",
        person__consent_phone=False,
        person__consent_email=False,
    )
    return lead.person


def test_a_web_form_from_someone_else_on_a_shared_phone_and_email_makes_a_new_person(
    world: World,
):
    linda = _linda(world)

    response = new_visitor().post(
        f"/studies/sites/{world.study_site_a.code}/",
        interest_form(
            first_name="Walker",
            last_name="Englishtest",
            phone="(312) 263-0142",
            email="linda@example.com",
            site=str(world.study_site_a.code),
        ),
    )

    assert response.status_code == 302, response.content[:500]
    walker = Person.objects.get(first_name="Walker")
    assert walker != linda
    assert Lead.objects.get(person=walker).study_site == world.study_site_a
    linda.refresh_from_db()
    assert (linda.consent_phone, linda.consent_email) == (False, False)
    assert walker.consent_phone
    assert walker.consent_email
    assert walker.consent_given_at
    suspicion = SuspectedDuplicate.objects.get()
    assert (suspicion.person, suspicion.matched) == (walker, linda)
    assert "another name" in suspicion.reason


def test_the_api_attaches_a_compatible_name_and_separates_another(world: World):
    linda = _linda(world)
    key = make_key(world)

    same = post_lead(
        key,
        lead_body(
            world,
            first_name="LINDA",
            last_name="Martinez",
            phone="(312) 263-0142",
            email="",
            date_of_birth=None,
        ),
    )
    other = post_lead(
        key,
        lead_body(
            world,
            first_name="Carlos",
            last_name="Martinez",
            phone="(312) 263-0142",
            email="",
            date_of_birth=None,
            external_reference="ACME-2",
        ),
    )

    assert same.status_code == 201, same.content
    assert other.status_code == 201, other.content
    assert Lead.objects.get(code=same.json()["code"]).person == linda
    carlos = Lead.objects.get(code=other.json()["code"]).person
    assert carlos != linda
    assert carlos.first_name == "Carlos"
    assert SuspectedDuplicate.objects.filter(person=carlos, matched=linda).exists()
