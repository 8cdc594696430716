"""Org A's prescreen objects for URL tests (the permission matrix and tests/prescreen): each
returns the URL kwargs that name it."""

from __future__ import annotations

from typing import Any

from prescreen.models import PrescreenResponse, QuestionnaireVersion, Rule
from prescreen.services.questionnaires import version_draft
from prescreen.services.responses import response_confirm, response_save
from tests.conftest import World
from tests.factories import new_lead
from tests.prescreen.conftest import build_questionnaire
from trialsnest.audit.services import Actor


def org_a_published(world: World) -> QuestionnaireVersion:
    return build_questionnaire(world.study_site_a, Actor(world.site_lead.user))


def org_a_draft(world: World) -> dict[str, Any]:
    org_a_published(world)
    return {"code": version_draft(study_site=world.study_site_a, actor=Actor(None)).code}


def org_a_draft_question(world: World) -> dict[str, Any]:
    """The age question of the draft (copied from the published version, with its rule)."""
    draft = QuestionnaireVersion.objects.get(code=org_a_draft(world)["code"])
    return {"code": draft.questions.all()[0].code}


def org_a_draft_rule(world: World) -> dict[str, Any]:
    question = org_a_draft_question(world)["code"]
    return {"code": Rule.objects.filter(question__code=question)[0].code}


def org_a_lead_with_questionnaire(world: World) -> dict[str, Any]:
    org_a_published(world)
    return {"code": new_lead(study_site=world.study_site_a).code}


def org_a_submitted_response(world: World) -> dict[str, Any]:
    version = org_a_published(world)
    lead = new_lead(study_site=world.study_site_a)
    answers = {str(q.code): "yes" for q in version.questions.filter(kind="yes_no")}
    answers |= {str(q.code): "40" for q in version.questions.filter(kind="number")}
    response = response_save(lead=lead, answers=answers, actor=Actor(None), submit=True)
    return {"code": response.code}


def org_a_response_needing_review(world: World) -> dict[str, Any]:
    kwargs = org_a_submitted_response(world)
    response = PrescreenResponse.objects.get(code=kwargs["code"])
    response_confirm(response=response, outcome="needs_review", reason="x", actor=Actor(None))
    return kwargs


def study_team_found_a_fit(world: World) -> dict[str, Any]:
    return {"outcome": "likely_fit", "note": "Dr Chen: fine"}


def likely_fit(world: World) -> dict[str, Any]:
    return {"outcome": "likely_fit"}
