"""The computed outcome matches the rules, for random questionnaires and random answers.

The oracle below is written independently of prescreen.scoring: for each rule it decides from
first principles whether the answer triggers it, then takes the worst effect.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from prescreen.models import Outcome, QuestionKind, RuleEffect, RuleOperator
from prescreen.scoring import QuestionSpec, RuleSpec, score

CHOICES = ["a", "b", "c"]
DAYS = st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2030, 1, 1))
NUMBERS = st.integers(min_value=-5, max_value=130)


def _rule_value(kind: str, operator: str):
    if operator == RuleOperator.UNANSWERED:
        return st.just("")
    if kind == QuestionKind.YES_NO:
        return st.sampled_from(["yes", "no"])
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return st.sampled_from(CHOICES)
    if kind == QuestionKind.NUMBER:
        return NUMBERS.map(str)
    return DAYS.map(datetime.date.isoformat)


OPERATORS: dict[str, list[str]] = {
    QuestionKind.YES_NO: [RuleOperator.IS, RuleOperator.UNANSWERED],
    QuestionKind.SINGLE: [RuleOperator.IS, RuleOperator.UNANSWERED],
    QuestionKind.MULTIPLE: [RuleOperator.IS, RuleOperator.UNANSWERED],
    QuestionKind.NUMBER: [RuleOperator.BELOW, RuleOperator.ABOVE, RuleOperator.UNANSWERED],
    QuestionKind.DATE: [RuleOperator.BEFORE, RuleOperator.AFTER, RuleOperator.UNANSWERED],
    QuestionKind.TEXT: [RuleOperator.UNANSWERED],
}


@st.composite
def rules(draw, kind: str, index: int):
    out = []
    for j in range(draw(st.integers(0, 3))):
        operator = draw(st.sampled_from(OPERATORS[kind]))
        out.append(
            RuleSpec(
                key=f"r{index}.{j}",
                effect=draw(st.sampled_from([RuleEffect.KNOCKOUT, RuleEffect.REVIEW])),
                operator=operator,
                value=draw(_rule_value(kind, operator)),
            )
        )
    return tuple(out)


def _answer(kind: str):
    if kind == QuestionKind.YES_NO:
        return st.sampled_from(["yes", "no"])
    if kind == QuestionKind.SINGLE:
        return st.sampled_from(CHOICES)
    if kind == QuestionKind.MULTIPLE:
        return st.lists(st.sampled_from(CHOICES), unique=True, min_size=1)
    if kind == QuestionKind.NUMBER:
        return st.one_of(NUMBERS.map(str), st.decimals(-5, 130, places=1).map(str))
    if kind == QuestionKind.DATE:
        return DAYS.map(datetime.date.isoformat)
    return st.text(min_size=1, max_size=10).filter(str.strip)


@st.composite
def questionnaires_and_answers(draw):
    questions, answers = [], {}
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(list(QuestionKind)))
        questions.append(
            QuestionSpec(
                key=f"q{i}",
                kind=kind,
                text=f"Question {i}",
                required=draw(st.booleans()),
                rules=draw(rules(kind, i)),
            )
        )
        if draw(st.booleans()):
            answers[f"q{i}"] = draw(_answer(kind))
    return questions, answers


def _triggers(kind: str, rule: RuleSpec, answer) -> bool:
    if answer is None:
        return rule.operator == RuleOperator.UNANSWERED
    if rule.operator == RuleOperator.UNANSWERED:
        return False
    if kind == QuestionKind.MULTIPLE:
        return bool(rule.value in answer)
    if kind in (QuestionKind.YES_NO, QuestionKind.SINGLE):
        return bool(answer == rule.value)
    if kind == QuestionKind.NUMBER:
        diff = Decimal(answer) - Decimal(rule.value)
        return diff < 0 if rule.operator == RuleOperator.BELOW else diff > 0
    if kind == QuestionKind.DATE:
        days = (datetime.date.fromisoformat(answer) - datetime.date.fromisoformat(rule.value)).days
        return days < 0 if rule.operator == RuleOperator.BEFORE else days > 0
    return False


@settings(max_examples=300, deadline=None)
@given(questionnaires_and_answers())
def test_the_outcome_is_the_worst_effect_of_the_rules_the_answers_trigger(case):
    questions, answers = case

    result = score(questions, answers)

    expected_rules = {
        (q.key, r.key, r.effect)
        for q in questions
        for r in q.rules
        if _triggers(q.kind, r, answers.get(q.key))
    }
    unanswered_required = {q.key for q in questions if q.required and q.key not in answers}
    fired_rules = {(f.question, f.rule, f.effect) for f in result.fired if f.rule}
    fired_missing = {f.question for f in result.fired if not f.rule}
    assert fired_rules == expected_rules
    assert fired_missing == unanswered_required
    effects = {e for _, _, e in expected_rules}
    if RuleEffect.KNOCKOUT in effects:
        assert result.outcome == Outcome.NOT_A_FIT
    elif RuleEffect.REVIEW in effects or unanswered_required:
        assert result.outcome == Outcome.NEEDS_REVIEW
    else:
        assert result.outcome == Outcome.LIKELY_FIT


@settings(max_examples=100, deadline=None)
@given(questionnaires_and_answers())
def test_a_knockout_that_fires_always_makes_not_a_fit(case):
    questions, answers = case
    always = QuestionSpec(
        key="extra",
        kind=QuestionKind.YES_NO,
        text="Extra",
        required=False,
        rules=(RuleSpec(key="ko", effect=RuleEffect.KNOCKOUT, operator="is", value="yes"),),
    )

    result = score([*questions, always], {**answers, "extra": "yes"})

    assert result.outcome == Outcome.NOT_A_FIT
    assert any(f.rule == "ko" for f in result.fired)


def test_a_questionnaire_without_rules_answered_in_full_is_a_likely_fit():
    questions = [QuestionSpec(key="q", kind=QuestionKind.TEXT, text="Name a pet", required=True)]

    assert score(questions, {"q": "Rex"}).outcome == Outcome.LIKELY_FIT
    assert score(questions, {}).outcome == Outcome.NEEDS_REVIEW
