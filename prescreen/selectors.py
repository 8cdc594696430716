"""Reads of the prescreen app, with the tenant passed in."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from prescreen.models import (
    Answer,
    PrescreenResponse,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    ResponseStatus,
    VersionStatus,
)
from prescreen.scoring import AnswerValue, QuestionSpec, RuleSpec


def questions_of(version: QuestionnaireVersion, *, public_only: bool = False) -> list[Question]:
    """The version's questions in order, each with its rules (two queries)."""
    queryset = version.questions.prefetch_related("rules")
    if public_only:
        queryset = queryset.filter(public=True)
    return list(queryset)


def specs_of(questions: list[Question]) -> list[QuestionSpec]:
    """What scoring needs of the questions (their rules prefetched)."""
    return [
        QuestionSpec(
            key=str(q.code),
            kind=q.kind,
            text=q.text,
            required=q.required,
            rules=tuple(
                RuleSpec(key=str(r.code), effect=r.effect, operator=r.operator, value=r.value)
                for r in q.rules.all()
            ),
        )
        for q in questions
    ]


def answers_of(response: PrescreenResponse) -> dict[str, AnswerValue]:
    """The response's answers by question code."""
    rows = response.answers.select_related("question").only("value", "question__code")
    return {str(a.question.code): a.value for a in rows}


def published_version(study_site_id: int) -> QuestionnaireVersion | None:
    return (
        QuestionnaireVersion.objects.filter(
            questionnaire__study_site_id=study_site_id, status=VersionStatus.PUBLISHED
        )
        .select_related("questionnaire")
        .first()
    )


def versions_of(questionnaire: Questionnaire) -> QuerySet[QuestionnaireVersion]:
    return questionnaire.versions.select_related("published_by").order_by("-number")


def open_response(lead_id: int, *, lock: bool = False) -> PrescreenResponse | None:
    """The lead's response not yet confirmed (at most one: a database constraint); with `lock`,
    its row is locked for the transaction."""
    queryset = PrescreenResponse.objects.filter(lead_id=lead_id).exclude(
        status=ResponseStatus.CONFIRMED
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.select_related("version").first()


def latest_response(lead_id: int) -> PrescreenResponse | None:
    """The lead's most recent prescreen, whatever its state (one query: the lead page)."""
    return (
        PrescreenResponse.objects.filter(lead_id=lead_id)
        .select_related("version")
        .order_by("-started_at", "-id")
        .first()
    )


def recorded_responses(lead_id: int) -> list[PrescreenResponse]:
    """The lead's confirmed prescreens, newest first, each with its answers in question order
    (`answer_list`) and who confirmed it: three queries whatever their number."""
    answers = Prefetch(
        "answers",
        queryset=Answer.objects.select_related("question").order_by("question__order", "id"),
        to_attr="answer_list",
    )
    return list(
        PrescreenResponse.objects.filter(lead_id=lead_id, status=ResponseStatus.CONFIRMED)
        .select_related("version", "confirmed_by")
        .prefetch_related(answers)
        .order_by("-confirmed_at", "-id")
    )
