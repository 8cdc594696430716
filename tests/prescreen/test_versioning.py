"""Publishing freezes a version; editing a published questionnaire makes a new draft; answers
keep pointing at the version that was asked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads.models import Lead
from prescreen.models import QuestionKind, QuestionnaireVersion, VersionStatus
from prescreen.selectors import answers_of
from prescreen.services.questionnaires import (
    question_delete,
    question_move,
    question_save,
    rule_add,
    version_draft,
    version_publish,
)
from prescreen.services.responses import response_save
from tests.conftest import World
from tests.factories import new_lead
from tests.prescreen.conftest import question
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor


def test_a_published_version_cannot_be_edited(world: World, published: QuestionnaireVersion):
    actor = Actor(world.site_lead.user)
    age = question(published, "How old are you?")

    with pytest.raises(ValidationError, match="published version cannot be changed"):
        question_save(version=published, question=age, actor=actor, kind="number", text="Age?")
    with pytest.raises(ValidationError):
        rule_add(question=age, effect="review", operator="above", value="80", actor=actor)
    with pytest.raises(ValidationError):
        question_delete(question=age, actor=actor)
    with pytest.raises(ValidationError):
        question_move(question=age, up=False, actor=actor)
    assert question(published, "How old are you?").rules.count() == 1


def test_editing_a_published_questionnaire_makes_a_new_draft_copied_from_it(
    world: World, published: QuestionnaireVersion
):
    draft = version_draft(study_site=world.study_site_a, actor=Actor(world.site_lead.user))

    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert [q.text for q in draft.questions.all()] == [q.text for q in published.questions.all()]
    assert question(draft, "How old are you?").rules.get().value == "18"
    assert question(draft, "How old are you?").pk != question(published, "How old are you?").pk
    # Asking for the draft again gives the same one: one draft at a time.
    assert version_draft(study_site=world.study_site_a, actor=Actor(None)).pk == draft.pk


def test_answers_keep_their_version_after_the_questionnaire_changes(
    world: World, published: QuestionnaireVersion
):
    lead = new_lead(study_site=world.study_site_a)
    actor = Actor(world.coordinator.user)
    age = question(published, "How old are you?")
    response = response_save(lead=lead, answers={str(age.code): "40"}, actor=actor)
    site_lead = Actor(world.site_lead.user)

    draft = version_draft(study_site=world.study_site_a, actor=site_lead)
    question_save(
        version=draft,
        question=question(draft, "How old are you?"),
        actor=site_lead,
        kind=QuestionKind.NUMBER,
        text="What is your age in years?",
    )
    version_publish(version=draft, actor=site_lead)

    response.refresh_from_db()
    published.refresh_from_db()
    assert response.version_id == published.pk
    assert published.status == VersionStatus.RETIRED
    assert answers_of(response) == {str(age.code): "40"}
    assert response.answers.get().question.text == "How old are you?"
    # The response in progress goes on with the version it started with.
    response = response_save(lead=lead, answers={}, actor=actor, submit=True)
    assert response.version_id == published.pk


def test_publishing_needs_a_question_and_retires_the_previous_version(world: World):
    actor = Actor(world.site_lead.user)
    empty = version_draft(study_site=world.study_site_a, actor=actor)

    with pytest.raises(ValidationError, match="at least one question"):
        version_publish(version=empty, actor=actor)

    question_save(version=empty, actor=actor, kind="yes_no", text="Do you smoke?")
    first = version_publish(version=empty, actor=actor)
    second = version_publish(
        version=version_draft(study_site=world.study_site_a, actor=actor), actor=actor
    )

    first.refresh_from_db()
    assert first.status == VersionStatus.RETIRED
    assert second.status == VersionStatus.PUBLISHED
    assert second.published_by == world.site_lead.user
    assert AuditEvent.objects.filter(action="prescreen.version_published").count() == 2


def test_rules_must_fit_their_question(world: World):
    actor = Actor(world.site_lead.user)
    draft = version_draft(study_site=world.study_site_a, actor=actor)
    smoke = question_save(version=draft, actor=actor, kind="yes_no", text="Do you smoke?")
    weight = question_save(version=draft, actor=actor, kind="number", text="Weight?", unit="kg")
    pets = question_save(
        version=draft, actor=actor, kind="multiple", text="Pets?", choices=["Cat", "Dog"]
    )

    with pytest.raises(ValidationError, match="yes or no"):
        rule_add(question=smoke, effect="knockout", operator="is", value="maybe", actor=actor)
    with pytest.raises(ValidationError, match="number"):
        rule_add(question=weight, effect="review", operator="above", value="heavy", actor=actor)
    with pytest.raises(ValidationError, match="does not fit"):
        rule_add(question=weight, effect="review", operator="is", value="3", actor=actor)
    with pytest.raises(ValidationError, match="options"):
        rule_add(question=pets, effect="review", operator="is", value="Fish", actor=actor)
    assert rule_add(question=pets, effect="review", operator="is", value="Dog", actor=actor)


def test_choice_questions_need_two_different_options(world: World):
    actor = Actor(world.site_lead.user)
    draft = version_draft(study_site=world.study_site_a, actor=actor)

    with pytest.raises(ValidationError, match="two different options"):
        question_save(version=draft, actor=actor, kind="single", text="Pick", choices=["A", "A"])


def test_questions_move_up_and_down(world: World, published: QuestionnaireVersion):
    actor = Actor(world.site_lead.user)
    draft = version_draft(study_site=world.study_site_a, actor=actor)
    last = question(draft, "How did you hear about the study?")

    question_move(question=last, up=True, actor=actor)

    assert [q.text for q in draft.questions.all()] == [
        "How old are you?",
        "How did you hear about the study?",
        "Have you been treated for melanoma?",
    ]
    assert Lead.objects.count() == 0
