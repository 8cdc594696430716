"""The self-prescreen on the public interest form: the StudySite's public questions, in English
and Spanish; the person never sees a result; the answers arrive with the lead."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from leads.models import Lead
from prescreen.models import (
    PrescreenResponse,
    QuestionnaireVersion,
    ResponseChannel,
    ResponseStatus,
)
from prescreen.selectors import answers_of
from tests.conftest import World, signed_in
from tests.factories import StudySiteFactory
from tests.leads.visitors import interest_form, new_visitor
from tests.prescreen.conftest import build_questionnaire, question
from trialsnest.audit.services import Actor

WORDS = re.compile(r"fit|not a fit|needs review|likely", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    translation.activate("en")


@pytest.fixture
def visitor() -> Client:
    return new_visitor()


def _site_page(world: World, language: str = "") -> str:
    prefix = f"/{language}" if language else ""
    return f"{prefix}/studies/sites/{world.study_site_a.code}/"


def _answers(version: QuestionnaireVersion, age: str, treated: str) -> dict[str, str]:
    return {
        f"self-q_{question(version, 'How old are you?').code}": age,
        f"self-q_{question(version, 'Have you been treated for melanoma?').code}": treated,
    }


def test_only_public_questions_are_asked_and_no_result_is_shown(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    page = visitor.get(_site_page(world)).content.decode()

    assert "How old are you?" in page
    assert "Have you been treated for melanoma?" in page
    assert "How did you hear about the study?" not in page  # not public
    assert "only the study team decides who can take part" in page


def test_the_spanish_page_asks_in_spanish(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    page = visitor.get(_site_page(world, "es")).content.decode()

    assert "¿Cuántos años tiene?" in page
    assert "¿Ha recibido tratamiento para el melanoma?" in page
    assert "Algunas preguntas sobre usted (opcional)" in page
    assert "Sí</label>" in page


def test_the_answers_arrive_with_the_lead_and_the_thanks_page_says_no_verdict(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    form = interest_form(site=str(world.study_site_a.code)) | _answers(published, "16", "no")

    response = visitor.post(_site_page(world), form)

    assert response.status_code == 302
    thanks = visitor.get(response["Location"]).content.decode()
    main = thanks.split("<main", 1)[1]
    assert not WORDS.search(main)
    lead = Lead.objects.get()
    prescreen = PrescreenResponse.objects.get(lead=lead)
    assert (prescreen.channel, prescreen.status) == (
        ResponseChannel.SELF,
        ResponseStatus.IN_PROGRESS,
    )
    assert prescreen.version == published
    assert sorted(answers_of(prescreen).values()) == ["16", "no"]
    # The coordinator finds the answers on the lead page and in the prescreen.
    coordinator = signed_in(world.coordinator.user)
    lead_page = coordinator.get(f"/leads/{lead.code}/").content.decode()
    assert "self-prescreen on the interest form" in lead_page
    conduct = coordinator.get(f"/leads/{lead.code}/prescreen/").content.decode()
    assert 'value="16"' in conduct


def test_an_invalid_answer_keeps_everything_typed_and_says_what_to_fix(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    form = interest_form(site=str(world.study_site_a.code)) | _answers(published, "999", "")

    response = visitor.post(_site_page(world), form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "less than or equal to 120" in page
    assert 'value="Ana"' in page
    assert not Lead.objects.exists()


def test_the_questions_are_optional_for_the_person(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    response = visitor.post(_site_page(world), interest_form(site=str(world.study_site_a.code)))

    assert response.status_code == 302
    assert Lead.objects.count() == 1
    assert not PrescreenResponse.objects.exists()


def test_answers_to_one_sites_questions_are_not_kept_when_another_site_is_chosen(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    other = StudySiteFactory(site=world.site_a2, study=world.study_site_a.study)
    form = interest_form(site=str(other.code)) | _answers(published, "40", "yes")

    response = visitor.post(_site_page(world), form)

    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.study_site == other
    assert not PrescreenResponse.objects.exists()


def test_a_study_page_listing_several_sites_asks_no_questions(
    world: World, published: QuestionnaireVersion, visitor: Client
):
    page = visitor.get(f"/studies/{world.study_site_a.study.code}/").content.decode()

    assert "How old are you?" not in page


def test_a_study_with_one_site_asks_its_questions_on_the_study_page(world: World, visitor: Client):
    build_questionnaire(world.study_site_a2, Actor(world.site_lead.user))

    page = visitor.get(f"/studies/{world.study_site_a2.study.code}/").content.decode()

    assert "How old are you?" in page
