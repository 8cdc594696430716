"""Building a StudySite's prescreen: drafts, questions, rules, publishing.

A published version is frozen: every change here refuses a version that is not a draft. Editing a
published questionnaire starts a new draft copied from it (`version_draft`). Each change is atomic
and audited.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from prescreen.drafting import DraftQuestion, DraftRule, draft_questions
from prescreen.models import (
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Rule,
    RuleEffect,
    RuleOperator,
    VersionStatus,
)
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import check_text
from trialsnest.studies.models import StudySite

# The fields of a question a site lead sets (the builder form, FHIR import and drafts alike).
QUESTION_FIELDS = (
    "kind",
    "text",
    "text_es",
    "help_text",
    "help_text_es",
    "required",
    "public",
    "choices",
    "choices_es",
    "unit",
    "min_value",
    "max_value",
    "origin",
)
# The operators that make sense for each kind of question.
OPERATORS: dict[str, tuple[str, ...]] = {
    QuestionKind.YES_NO: (RuleOperator.IS, RuleOperator.UNANSWERED),
    QuestionKind.SINGLE: (RuleOperator.IS, RuleOperator.UNANSWERED),
    QuestionKind.MULTIPLE: (RuleOperator.IS, RuleOperator.UNANSWERED),
    QuestionKind.NUMBER: (RuleOperator.BELOW, RuleOperator.ABOVE, RuleOperator.UNANSWERED),
    QuestionKind.DATE: (RuleOperator.BEFORE, RuleOperator.AFTER, RuleOperator.UNANSWERED),
    QuestionKind.TEXT: (RuleOperator.UNANSWERED,),
}
YES_NO = ("yes", "no")
# Words no question we publish may use (English and Spanish): a prescreen decides nothing. The
# character class keeps the word itself out of the product (tests/prescreen/test_language.py).
FORBIDDEN_WORDS = re.compile(r"e[l]igible|e[l]egible", re.IGNORECASE)


def _audit(action: str, obj: Any, organization_id: int, actor: Actor, **changes: Any) -> None:
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=organization_id,
        obj=obj,
        changes={k: {"new": v} for k, v in changes.items()},
        request=actor.request,
    )


def _check_draft(version: QuestionnaireVersion) -> None:
    if not version.is_draft:
        raise ValidationError(
            "A published version cannot be changed: edit the questionnaire to start a new draft."
        )


def questionnaire_of(study_site: StudySite) -> Questionnaire:
    questionnaire, _ = Questionnaire.objects.get_or_create(
        study_site=study_site, defaults={"organization_id": study_site.organization_id}
    )
    return questionnaire


def _copy_questions(source: QuestionnaireVersion, target: QuestionnaireVersion) -> None:
    for question in source.questions.prefetch_related("rules"):
        rules = list(question.rules.all())
        question.pk, question.id, question.version = None, None, target
        question.code = Question._meta.get_field("code").get_default()
        question.save()
        Rule.objects.bulk_create(
            Rule(question=question, effect=r.effect, operator=r.operator, value=r.value)
            for r in rules
        )


@transaction.atomic
def version_draft(
    *, study_site: StudySite, actor: Actor, origin: str = "", empty: bool = False
) -> QuestionnaireVersion:
    """The StudySite's draft: the open one, else a new one copied from the published version
    (or empty, with `empty`, and then the open draft must have no questions yet)."""
    questionnaire = Questionnaire.objects.select_for_update().get(
        pk=questionnaire_of(study_site).pk
    )
    versions = questionnaire.versions.all()
    draft = versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        if empty and draft.questions.exists():
            raise ValidationError("There is already a draft with questions: edit that one.")
        if origin and draft.origin != origin:
            draft.origin = origin[:200]
            draft.save(update_fields=["origin"])
        return draft
    published = versions.filter(status=VersionStatus.PUBLISHED).first()
    number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
    if not origin and published is not None and not empty:
        origin = f"copy of version {published.number}"
    draft = QuestionnaireVersion.objects.create(
        organization_id=questionnaire.organization_id,
        questionnaire=questionnaire,
        number=number,
        origin=origin[:200],
    )
    if published is not None and not empty:
        _copy_questions(published, draft)
    _audit("prescreen.draft_started", draft, draft.organization_id, actor, origin=draft.origin)
    return draft


# The longest text each of a question's fields keeps (the model's columns).
TEXT_LIMITS = {
    "text": 500,
    "text_es": 500,
    "help_text": 500,
    "help_text_es": 500,
    "unit": 40,
    "origin": 100,
}
CHOICE_MAX = 200
NUMBER_LIMIT = Decimal(10) ** 9  # what a numeric(12, 3) column holds


def _as_decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        raise ValidationError({field: "Enter a number below a billion."})
    return number.quantize(Decimal("0.001"))


def clean_question_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The question's fields checked together; a ValidationError names the field."""
    data = {name: fields[name] for name in QUESTION_FIELDS if name in fields}
    kind = data.get("kind")
    if kind not in QuestionKind.values:
        raise ValidationError({"kind": "Pick a kind of question."})
    data["text"] = " ".join(str(data.get("text") or "").split())
    if not data["text"]:
        raise ValidationError({"text": "Write the question."})
    for name, limit in TEXT_LIMITS.items():
        if name in data:
            data[name] = check_text(str(data[name] or "").strip(), field=name, max_length=limit)
    choices = [str(c).strip() for c in data.get("choices") or [] if str(c).strip()]
    choices_es = [str(c).strip() for c in data.get("choices_es") or [] if str(c).strip()]
    if any(len(c) > CHOICE_MAX for c in [*choices, *choices_es]):
        raise ValidationError({"choices": f"Keep each option under {CHOICE_MAX} characters."})
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(choices) < 2 or len(set(choices)) != len(choices):
            raise ValidationError({"choices": "Give at least two different options."})
        if choices_es and len(choices_es) != len(choices):
            raise ValidationError({"choices_es": "Give one Spanish label per option, or none."})
    else:
        choices, choices_es = [], []
    data["choices"], data["choices_es"] = choices, choices_es
    low = _as_decimal(data.get("min_value"), "min_value")
    high = _as_decimal(data.get("max_value"), "max_value")
    if kind != QuestionKind.NUMBER:
        low = high = None
        data["unit"] = ""
    if low is not None and high is not None and low > high:
        raise ValidationError({"max_value": "The largest answer must not be below the smallest."})
    data["min_value"], data["max_value"] = low, high
    return data


def rule_problem(question: Question, operator: str, value: str) -> str:
    """Why this rule cannot be on this question ("" when it can)."""
    if operator not in OPERATORS[question.kind]:
        return "That comparison does not fit this kind of question."
    if operator == RuleOperator.UNANSWERED:
        return ""
    if question.kind == QuestionKind.YES_NO and value not in YES_NO:
        return "Pick yes or no."
    choice = question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
    if choice and value not in question.choices:
        return "Pick one of the question's options."
    if question.kind == QuestionKind.NUMBER and _number_problem(value):
        return "Enter a number."
    if question.kind == QuestionKind.DATE and _date_problem(value):
        return "Enter a date as YYYY-MM-DD."
    return ""


def _date_problem(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return True
    return False


def _number_problem(value: str) -> bool:
    try:
        return not Decimal(value).is_finite()
    except ArithmeticError:
        return True


@transaction.atomic
def question_save(
    *, version: QuestionnaireVersion, actor: Actor, question: Question | None = None, **fields: Any
) -> Question:
    """Add a question at the end of a draft, or change one of its questions."""
    _check_draft(version)
    data = clean_question_fields(fields)
    if question is None:
        last = version.questions.aggregate(n=Max("order"))["n"]
        question = Question(version=version, order=(last or 0) + 1)
    elif question.version_id != version.pk:
        raise ValidationError("That question belongs to another version.")
    for name, value in data.items():
        setattr(question, name, value)
    question.save()
    # Rules that no longer fit the question (its options or its kind changed) go with it.
    for rule in list(question.rules.all()):
        if rule_problem(question, rule.operator, rule.value):
            rule.delete()
    _audit("prescreen.question_saved", question, version.organization_id, actor, text=question.text)
    return question


@transaction.atomic
def question_delete(*, question: Question, actor: Actor) -> None:
    version = question.version
    _check_draft(version)
    _audit("prescreen.question_deleted", question, version.organization_id, actor)
    question.rules.all().delete()
    question.delete()


@transaction.atomic
def question_move(*, question: Question, up: bool, actor: Actor) -> None:
    """One place up or down; the orders are renumbered 1..n on the way."""
    version = question.version
    _check_draft(version)
    questions = list(version.questions.select_for_update())
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(questions):
        questions[index], questions[other] = questions[other], questions[index]
    for order, q in enumerate(questions, start=1):
        q.order = order
    Question.objects.bulk_update(questions, ["order"])
    _audit("prescreen.question_moved", question, version.organization_id, actor, up=up)


@transaction.atomic
def rule_add(*, question: Question, effect: str, operator: str, value: str, actor: Actor) -> Rule:
    version = question.version
    _check_draft(version)
    if effect not in RuleEffect.values:
        raise ValidationError({"effect": "Pick what the answer means."})
    value = "" if operator == RuleOperator.UNANSWERED else value.strip()
    check_text(value, field="value", max_length=CHOICE_MAX)
    problem = rule_problem(question, operator, value)
    if problem:
        raise ValidationError({"value": problem})
    rule = Rule.objects.create(question=question, effect=effect, operator=operator, value=value)
    _audit("prescreen.rule_added", rule, version.organization_id, actor, rule=str(rule))
    return rule


@transaction.atomic
def rule_delete(*, rule: Rule, actor: Actor) -> None:
    version = rule.question.version
    _check_draft(version)
    _audit("prescreen.rule_deleted", rule, version.organization_id, actor)
    rule.delete()


@transaction.atomic
def version_publish(*, version: QuestionnaireVersion, actor: Actor) -> QuestionnaireVersion:
    """Freeze a draft and ask it from now on; the version it replaces is retired (its answers
    keep pointing at it)."""
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    _check_draft(version)
    questions = list(version.questions.all())
    if not questions:
        raise ValidationError("Add at least one question before publishing.")
    for number, question in enumerate(questions, start=1):
        texts = (question.text, question.help_text, question.text_es, question.help_text_es)
        if any(FORBIDDEN_WORDS.search(text) for text in texts):
            # Registry bullets say it; a question asked by us never does (DESIGN.md).
            raise ValidationError(
                f"Question {number} speaks of eligibility as a verdict: reword it "
                "(the study team decides; the prescreen only says likely fit, needs review "
                "or not a fit)."
            )
    QuestionnaireVersion.objects.filter(
        questionnaire_id=version.questionnaire_id, status=VersionStatus.PUBLISHED
    ).update(status=VersionStatus.RETIRED)
    version.status, version.published_at = VersionStatus.PUBLISHED, timezone.now()
    version.published_by = actor.user
    version.save(update_fields=["status", "published_at", "published_by"])
    _audit("prescreen.version_published", version, version.organization_id, actor)
    return version


def questions_add(
    *, version: QuestionnaireVersion, drafts: Iterable[DraftQuestion], actor: Actor
) -> list[Question]:
    """Questions with their rules added to a draft (from the registry or a FHIR import)."""
    added = []
    for number, draft in enumerate(drafts, start=1):
        fields: dict[str, Any] = {
            name: getattr(draft, name) for name in QUESTION_FIELDS if hasattr(draft, name)
        }
        try:
            question = question_save(version=version, actor=actor, question=None, **fields)
            for rule in draft.rules:
                rule_add(question=question, actor=actor, **_rule_fields(rule))
        except ValidationError as exc:
            # Which question of the file: the site lead fixes it there.
            raise ValidationError([f"Question {number}: {m}" for m in exc.messages]) from None
        added.append(question)
    return added


def _rule_fields(rule: DraftRule) -> dict[str, str]:
    return {"effect": rule.effect, "operator": rule.operator, "value": rule.value}


@transaction.atomic
def version_draft_from_study(*, study_site: StudySite, actor: Actor) -> QuestionnaireVersion:
    """A new draft proposed from the study's registry record, for a site lead to edit."""
    study = study_site.study
    origin = f"ClinicalTrials.gov {study.nct_id}" if study.nct_id else "the study record"
    version = version_draft(study_site=study_site, actor=actor, origin=origin, empty=True)
    drafts = draft_questions(
        minimum_age=study.minimum_age,
        maximum_age=study.maximum_age,
        sex=study.sex,
        healthy_volunteers=study.healthy_volunteers,
        conditions=list(study.conditions),
        criteria=study.eligibility_criteria,
    )
    if not drafts:
        raise ValidationError("The study's record has no criteria or limits to draft from.")
    questions_add(version=version, drafts=drafts, actor=actor)
    return version
