"""Conducting a prescreen: partial progress, scoring, confirming or overriding, and the lead
moving on through the leads services (status, next action, timeline, audit)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads.models import ActionKind, ActivityKind, Blocker, CloseReason, Status
from prescreen.models import Outcome, QuestionnaireVersion, ResponseStatus
from prescreen.services.responses import response_confirm, response_review, response_save
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.conftest import fresh
from tests.prescreen.conftest import question
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor


def _answers(
    version: QuestionnaireVersion, age: str | None, treated: str | None
) -> dict[str, str | None]:
    return {
        str(question(version, "How old are you?").code): age,
        str(question(version, "Have you been treated for melanoma?").code): treated,
    }


@pytest.fixture
def actor(world: World) -> Actor:
    return Actor(world.coordinator.user)


def test_partial_progress_is_kept_and_moves_a_new_lead_to_prescreening(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)

    response = response_save(lead=lead, answers=_answers(published, "40", None), actor=actor)

    assert response.status == ResponseStatus.IN_PROGRESS
    assert response.answers.count() == 1
    lead = fresh(lead)
    assert (lead.status, lead.next_action) == (Status.PRESCREENING, ActionKind.CONDUCT_PRESCREEN)
    # Saving again updates the same response; clearing an answer deletes it.
    again = response_save(lead=lead, answers=_answers(published, None, "yes"), actor=actor)
    assert again.pk == response.pk
    assert [a.value for a in again.answers.all()] == ["yes"]
    audit = AuditEvent.objects.filter(action="prescreen.answers_saved")[0]
    assert audit.changes["answers"] == {"phi": True}


def test_a_likely_fit_confirmed_moves_the_lead_to_records(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "40", "yes"), actor=actor, submit=True
    )
    assert (response.computed_outcome, response.fired) == (Outcome.LIKELY_FIT, [])

    response_confirm(response=response, outcome=Outcome.LIKELY_FIT, reason="", actor=actor)

    lead = fresh(lead)
    assert (lead.status, lead.next_action) == (Status.RECORDS_PENDING, ActionKind.REQUEST_RECORDS)
    change = lead.activities.filter(kind=ActivityKind.STATUS_CHANGE)[0]
    assert change.text == "Prescreen: likely fit, confirmed"
    response.refresh_from_db()
    assert (response.status, response.outcome, response.confirmed_by) == (
        ResponseStatus.CONFIRMED,
        Outcome.LIKELY_FIT,
        world.coordinator.user,
    )


def test_a_knockout_says_which_rule_fired_and_closes_the_lead_as_not_a_fit(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "16", "yes"), actor=actor, submit=True
    )

    assert response.computed_outcome == Outcome.NOT_A_FIT
    assert [(f["text"], f["effect"]) for f in response.fired] == [("How old are you?", "knockout")]
    response_confirm(response=response, outcome=Outcome.NOT_A_FIT, reason="", actor=actor)
    lead = fresh(lead)
    assert (lead.status, lead.close_reason) == (Status.CLOSED, CloseReason.NOT_A_FIT)
    assert not lead.is_open


def test_needs_review_goes_to_the_study_team_with_a_blocker(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "40", "no"), actor=actor, submit=True
    )
    assert response.computed_outcome == Outcome.NEEDS_REVIEW

    response_confirm(response=response, outcome=Outcome.NEEDS_REVIEW, reason="", actor=actor)

    lead = fresh(lead)
    assert (lead.status, lead.next_action, lead.blocker) == (
        Status.NEEDS_REVIEW,
        ActionKind.REVIEW_PRESCREEN,
        Blocker.AWAITING_REVIEW,
    )


def test_an_override_needs_a_reason_and_is_kept_with_it(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "40", "no"), actor=actor, submit=True
    )

    with pytest.raises(ValidationError, match="Say why"):
        response_confirm(response=response, outcome=Outcome.LIKELY_FIT, reason="", actor=actor)
    response_confirm(
        response=response,
        outcome=Outcome.LIKELY_FIT,
        reason="Treated last year, confirmed with the PI",
        actor=actor,
    )

    response.refresh_from_db()
    assert response.overridden
    assert response.computed_outcome == Outcome.NEEDS_REVIEW
    assert response.override_reason == "Treated last year, confirmed with the PI"
    lead = fresh(lead)
    assert lead.status == Status.RECORDS_PENDING
    assert "computed needs review" in lead.activities.filter(kind="status_change")[0].text


def test_a_required_question_left_unanswered_needs_review(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)

    response = response_save(
        lead=lead, answers=_answers(published, "40", None), actor=actor, submit=True
    )

    assert response.computed_outcome == Outcome.NEEDS_REVIEW
    assert [f["why"] for f in response.fired] == ["required, not answered"]


def test_a_closed_lead_is_not_prescreened_and_nothing_is_published_yet_is_refused(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a2)

    with pytest.raises(ValidationError, match="no published prescreen"):
        response_save(lead=lead, answers={}, actor=actor)
    assert fresh(lead).status == Status.NEW


def test_confirming_twice_is_refused(world: World, published: QuestionnaireVersion, actor: Actor):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "40", "yes"), actor=actor, submit=True
    )
    response_confirm(response=response, outcome=Outcome.LIKELY_FIT, reason="", actor=actor)

    with pytest.raises(ValidationError, match="Submit the answers"):
        response_confirm(response=response, outcome=Outcome.NOT_A_FIT, reason="x", actor=actor)
    assert fresh(lead).status == Status.RECORDS_PENDING


def test_the_study_teams_review_of_a_needs_review_prescreen_moves_the_lead_on(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "40", "no"), actor=actor, submit=True
    )
    response = response_confirm(
        response=response, outcome=Outcome.NEEDS_REVIEW, reason="", actor=actor
    )

    with pytest.raises(ValidationError, match="Say what the study team decided"):
        response_review(response=response, outcome=Outcome.LIKELY_FIT, note=" ", actor=actor)
    response_review(
        response=response, outcome=Outcome.NOT_A_FIT, note="Dr Chen: prior therapy", actor=actor
    )

    lead = fresh(lead)
    assert (lead.status, lead.close_reason) == (Status.CLOSED, CloseReason.NOT_A_FIT)
    change = lead.activities.filter(kind=ActivityKind.STATUS_CHANGE)[0]
    assert change.text == "Study-team review: not a fit: Dr Chen: prior therapy"
    response.refresh_from_db()
    assert (response.review_outcome, response.reviewed_by) == (
        Outcome.NOT_A_FIT,
        world.coordinator.user,
    )
    with pytest.raises(ValidationError, match="already recorded"):
        response_review(response=response, outcome=Outcome.LIKELY_FIT, note="x", actor=actor)


def test_only_a_needs_review_prescreen_awaits_the_study_team(
    world: World, published: QuestionnaireVersion, actor: Actor
):
    lead = new_lead(study_site=world.study_site_a)
    response = response_save(
        lead=lead, answers=_answers(published, "40", "yes"), actor=actor, submit=True
    )
    response = response_confirm(
        response=response, outcome=Outcome.LIKELY_FIT, reason="", actor=actor
    )

    with pytest.raises(ValidationError, match="Only a prescreen recorded as needs review"):
        response_review(response=response, outcome=Outcome.NOT_A_FIT, note="x", actor=actor)
    assert fresh(lead).status == Status.RECORDS_PENDING
