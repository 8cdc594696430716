"""Helpers for the prescreen tests: a published questionnaire at study_site_a."""

from __future__ import annotations

import pytest

from prescreen.models import Question, QuestionKind, QuestionnaireVersion, RuleEffect
from prescreen.services.questionnaires import (
    question_save,
    rule_add,
    version_draft,
    version_publish,
)
from tests.conftest import World
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite


def build_questionnaire(study_site: StudySite, actor: Actor) -> QuestionnaireVersion:
    """Age (knockout under 18), a yes/no review question (public, in Spanish too), a choice."""
    version = version_draft(study_site=study_site, actor=actor)
    age = question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.NUMBER,
        text="How old are you?",
        text_es="¿Cuántos años tiene?",
        unit="years",
        min_value=0,
        max_value=120,
        required=True,
        public=True,
    )
    rule_add(question=age, effect=RuleEffect.KNOCKOUT, operator="below", value="18", actor=actor)
    treated = question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.YES_NO,
        text="Have you been treated for melanoma?",
        text_es="¿Ha recibido tratamiento para el melanoma?",
        required=True,
        public=True,
    )
    rule_add(question=treated, effect=RuleEffect.REVIEW, operator="is", value="no", actor=actor)
    question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.SINGLE,
        text="How did you hear about the study?",
        choices=["Doctor", "Advert"],
        required=False,
    )
    return version_publish(version=version, actor=actor)


def question(version: QuestionnaireVersion, text: str) -> Question:
    return version.questions.get(text=text)


@pytest.fixture
def published(world: World) -> QuestionnaireVersion:
    return build_questionnaire(world.study_site_a, Actor(world.site_lead.user))
