"""The prescreen app's answers to what the leads app announces (connected in PrescreenConfig)."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import F
from django.dispatch import receiver

from leads.intake.signals import submission_made_lead
from leads.models import Lead, Person, Submission
from leads.signals import lead_page_shown, person_erased, person_exported
from prescreen.models import Answer, PrescreenResponse, QuestionnaireVersion, ResponseChannel
from prescreen.presenters import lead_panel
from prescreen.selectors import open_response
from prescreen.services.responses import response_new
from trialsnest.audit.services import Actor

logger = logging.getLogger(__name__)
VALUE_MAX = 200


def _clean_answers(version: QuestionnaireVersion, answers: Any) -> dict[str, Any]:
    """Only answers to the version's public questions, as short text or lists of text."""
    if not isinstance(answers, dict):
        return {}
    public = {
        str(code) for code in version.questions.filter(public=True).values_list("code", flat=True)
    }
    kept: dict[str, Any] = {}
    for code, value in answers.items():
        if code not in public:
            continue
        if isinstance(value, str):
            kept[code] = value[:VALUE_MAX]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            kept[code] = [v[:VALUE_MAX] for v in value]
    return kept


@receiver(submission_made_lead, sender=Submission)
def keep_self_prescreen(
    sender: Any, submission: Submission, lead: Lead, actor: Actor, **kwargs: Any
) -> None:
    """The interest form's self-prescreen answers become the lead's prescreen in progress,
    unless the lead already has one (repeat interest on a lead being prescreened)."""
    data = submission.payload.get("prescreen")
    if not isinstance(data, dict):
        return
    version = QuestionnaireVersion.objects.filter(
        code=str(data.get("version") or "00000000-0000-0000-0000-000000000000"),
        questionnaire__study_site_id=lead.study_site_id,
    ).first()
    if version is None:
        # The visitor chose another site than the one whose questions they answered.
        logger.info("Self-prescreen of submission %s not kept: another site", submission.pk)
        return
    answers = _clean_answers(version, data.get("answers"))
    if not answers or open_response(lead.pk) is not None:
        return
    response_new(
        lead=lead, version=version, channel=ResponseChannel.SELF, answers=answers, actor=actor
    )


@receiver(lead_page_shown, sender=Lead)
def prescreen_panel(sender: Any, lead: Lead, **kwargs: Any) -> tuple[str, Any]:
    """The lead page's prescreen panel, under `panels.prescreen`."""
    return "prescreen", lead_panel(lead)


@receiver(person_exported, sender=Person)
def prescreen_export(sender: Any, person: Person, **kwargs: Any) -> tuple[str, list[Any]]:
    """The person's prescreen answers, question by question, with each response's outcome."""
    rows = (
        Answer.objects.filter(response__lead__person=person)
        .annotate(
            lead_code=F("response__lead__code"),
            asked=F("question__text"),
            outcome=F("response__outcome"),
            override_reason=F("response__override_reason"),
            submitted_at=F("response__submitted_at"),
        )
        .values("lead_code", "submitted_at", "asked", "value", "outcome", "override_reason")
    )
    return "Prescreens", list(rows.order_by("response_id", "question__order"))


@receiver(person_erased, sender=Person)
def prescreen_erase(sender: Any, person: Person, **kwargs: Any) -> None:
    """The person's answers and the reasons typed about them go; outcomes stay (reports)."""
    Answer.objects.filter(response__lead__person=person).update(value="")
    PrescreenResponse.objects.filter(lead__person=person).update(override_reason="", review_note="")
