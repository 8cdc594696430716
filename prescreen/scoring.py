"""The prescreen outcome, computed from a questionnaire's rules and the answers given.

Pure: no database, no clock. A knockout rule that fires makes "not a fit"; otherwise a review
rule that fires, or a required question left unanswered, makes "needs review"; otherwise the
answers are a "likely fit". The study team makes the final decision whatever this says.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from prescreen.models import Outcome, QuestionKind, RuleEffect, RuleOperator

type AnswerValue = str | list[str]


@dataclass(frozen=True)
class RuleSpec:
    key: str
    effect: str
    operator: str
    value: str = ""


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    kind: str
    text: str
    required: bool
    rules: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True)
class Fired:
    rule: str
    question: str
    text: str
    effect: str
    why: str

    def as_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "question": self.question,
            "text": self.text,
            "effect": self.effect,
            "why": self.why,
        }


@dataclass(frozen=True)
class Score:
    outcome: str
    fired: tuple[Fired, ...]


def is_answered(value: AnswerValue | None) -> bool:
    if value is None:
        return False
    if isinstance(value, list):
        return bool(value)
    return value.strip() != ""


def _number(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def rule_matches(kind: str, rule: RuleSpec, answer: AnswerValue | None) -> bool:
    """Whether `rule` fires on `answer` (None: not answered). An answer of the wrong shape for
    the operator never matches (it is the form's job to refuse it)."""
    if rule.operator == RuleOperator.UNANSWERED:
        return not is_answered(answer)
    if not is_answered(answer) or answer is None:
        return False
    if rule.operator == RuleOperator.IS:
        if isinstance(answer, list):
            return rule.value in answer
        return answer.strip().casefold() == rule.value.strip().casefold()
    if isinstance(answer, list):
        return False
    if rule.operator in (RuleOperator.BELOW, RuleOperator.ABOVE):
        given, limit = _number(answer), _number(rule.value)
        if given is None or limit is None:
            return False
        return given < limit if rule.operator == RuleOperator.BELOW else given > limit
    if rule.operator in (RuleOperator.BEFORE, RuleOperator.AFTER):
        day, limit_day = _date(answer), _date(rule.value)
        if day is None or limit_day is None:
            return False
        return day < limit_day if rule.operator == RuleOperator.BEFORE else day > limit_day
    return False


def _why(kind: str, rule: RuleSpec) -> str:
    if rule.operator == RuleOperator.UNANSWERED:
        return "not answered"
    if rule.operator == RuleOperator.IS and kind == QuestionKind.MULTIPLE:
        return f"includes “{rule.value}”"
    label = RuleOperator(rule.operator).label
    return f"answer {label} “{rule.value}”"


def score(questions: Sequence[QuestionSpec], answers: Mapping[str, AnswerValue]) -> Score:
    fired: list[Fired] = []
    for question in questions:
        answer = answers.get(question.key)
        if question.required and not is_answered(answer):
            # Not a rule of the site lead's, but a reason the study team must look.
            fired.append(
                Fired(
                    rule="",
                    question=question.key,
                    text=question.text,
                    effect=RuleEffect.REVIEW,
                    why="required, not answered",
                )
            )
        for rule in question.rules:
            if rule_matches(question.kind, rule, answer):
                fired.append(
                    Fired(
                        rule=rule.key,
                        question=question.key,
                        text=question.text,
                        effect=rule.effect,
                        why=_why(question.kind, rule),
                    )
                )
    effects = {f.effect for f in fired}
    if RuleEffect.KNOCKOUT in effects:
        outcome = Outcome.NOT_A_FIT
    elif RuleEffect.REVIEW in effects:
        outcome = Outcome.NEEDS_REVIEW
    else:
        outcome = Outcome.LIKELY_FIT
    return Score(outcome=str(outcome), fired=tuple(fired))
