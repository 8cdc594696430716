"""The conduct screen runs a constant number of SQL queries, whatever the number of questions,
answers and recorded prescreens."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prescreen.models import QuestionnaireVersion
from prescreen.services.questionnaires import (
    question_save,
    rule_add,
    version_draft,
    version_publish,
)
from prescreen.services.responses import response_confirm, response_save
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.services import Actor


def _questionnaire(world: World, n: int) -> QuestionnaireVersion:
    actor = Actor(world.site_lead.user)
    draft = version_draft(study_site=world.study_site_a, actor=actor)
    for i in range(n):
        q = question_save(version=draft, actor=actor, kind="yes_no", text=f"Question {i}?")
        rule_add(question=q, effect="review", operator="is", value="no", actor=actor)
    return version_publish(version=draft, actor=actor)


def _count(world: World, n: int) -> int:
    version = _questionnaire(world, n)
    lead = new_lead(study_site=world.study_site_a)
    answers = {str(q.code): "yes" for q in version.questions.all()}
    actor = Actor(world.coordinator.user)
    for _ in range(2):  # two recorded prescreens, then one in progress
        response = response_save(lead=lead, answers=answers, actor=actor, submit=True)
        response_confirm(response=response, outcome="needs_review", reason="x", actor=actor)
    response_save(lead=lead, answers=answers, actor=actor)
    client = signed_in(world.coordinator.user)
    url = reverse("prescreen_conduct", kwargs={"code": lead.code})
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])


def test_the_conduct_screen_costs_the_same_with_3_questions_as_with_30(world: World):
    few = _count(world, 3)

    many = _count(world, 30)

    assert many == few
    assert many <= 16
