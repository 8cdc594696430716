"""A draft prescreen read from a study's ClinicalTrials.gov record: pure, no database.

Structured limits (age range, sex, healthy volunteers) become questions with rules; each top-level
bullet of the inclusion and exclusion criteria becomes a yes/no question. A site lead edits the
draft and publishes it: nothing drafted here is ever asked before a person publishes it.

Why the criteria bullets only ever ask for review, never knock out: the registry text is written
for investigators, full of exceptions ("unless disease free for 5 years", "basal cell carcinoma is
acceptable") and lab thresholds a person cannot judge on the phone. A person who says "yes" to
"history of other malignancy" may still be a fit, and a knockout would close the lead as not a fit
with nobody looking. A review rule puts the answer in front of the study team instead. Age is
different: it is a number against the registry's own limits, so it knocks out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from prescreen.models import QuestionKind, RuleEffect, RuleOperator

TEXT_MAX = 500
HELP_MAX = 500

_HEADING = re.compile(r"^\s*(inclusion|exclusion)\s+criteria\s*:?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^(\s*)(?:\d+[.)]|[*•\-\u2013])\s+(.*)$")
_ESCAPE = re.compile(r"\\([\[\]<>()*_#~`\\-])")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*$", re.IGNORECASE)
_PER_YEAR = {
    "year": Decimal(1),
    "month": Decimal(12),
    "week": Decimal(52),
    "day": Decimal(365),
    "hour": Decimal(8760),
    "minute": Decimal(525600),
}


@dataclass(frozen=True)
class DraftRule:
    effect: str
    operator: str
    value: str


@dataclass(frozen=True)
class DraftQuestion:
    kind: str
    text: str
    origin: str
    help_text: str = ""
    choices: tuple[str, ...] = ()
    required: bool = True
    public: bool = False
    text_es: str = ""
    help_text_es: str = ""
    choices_es: tuple[str, ...] = ()
    unit: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    rules: tuple[DraftRule, ...] = ()


@dataclass
class _Bullet:
    text: str
    details: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(_ESCAPE.sub(r"\1", text).split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def criteria_bullets(text: str) -> dict[str, list[_Bullet]]:
    """The top-level bullets under "Inclusion Criteria" and "Exclusion Criteria", with their
    indented sub-bullets and continuation lines as details."""
    sections: dict[str, list[_Bullet]] = {"inclusion": [], "exclusion": []}
    current: list[_Bullet] | None = None
    top_indent: int | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            current, top_indent = sections[heading.group(1).lower()], None
            continue
        if current is None:
            continue
        bullet = _BULLET.match(line)
        if bullet:
            indent = len(bullet.group(1).expandtabs())
            if top_indent is None:
                top_indent = indent
            if indent <= top_indent:
                current.append(_Bullet(_clean(bullet.group(2))))
                continue
            if current:
                current[-1].details.append(_clean(bullet.group(2)))
            continue
        if current:
            current[-1].details.append(_clean(line))
        else:
            # Criteria written as plain lines without markers: each line is a criterion.
            current.append(_Bullet(_clean(line)))
    return sections


def age_in_years(value: str) -> Decimal | None:
    """ "18 Years" → 18, "6 Months" → 0.5; None for an empty or unreadable limit."""
    match = _AGE.match(value or "")
    if not match:
        return None
    years = Decimal(match.group(1)) / _PER_YEAR[match.group(2).lower()]
    return years.quantize(Decimal("0.001")).normalize()


def _age_question(minimum: str, maximum: str) -> DraftQuestion | None:
    low, high = age_in_years(minimum), age_in_years(maximum)
    if low is None and high is None:
        return None
    rules = []
    if low is not None and low > 0:
        rules.append(DraftRule(RuleEffect.KNOCKOUT, RuleOperator.BELOW, f"{low:f}"))
    if high is not None:
        rules.append(DraftRule(RuleEffect.KNOCKOUT, RuleOperator.ABOVE, f"{high:f}"))
    limits = " to ".join(v for v in (minimum, maximum) if v)
    return DraftQuestion(
        kind=QuestionKind.NUMBER,
        text="How old are you?",
        help_text=f"The registry's age limits: {limits}.",
        origin="registry age limits",
        unit="years",
        min_value=Decimal(0),
        max_value=Decimal(120),
        rules=tuple(rules),
    )


def _sex_question(sex: str) -> DraftQuestion | None:
    wanted = {"FEMALE": "Female", "MALE": "Male"}.get(sex.strip().upper())
    if wanted is None:
        return None
    other = "Male" if wanted == "Female" else "Female"
    # Review, not knockout: the registry's sex limit may be about sex assigned at birth or about
    # gender, which a phone question cannot settle; the study team decides.
    return DraftQuestion(
        kind=QuestionKind.SINGLE,
        text="What sex were you assigned at birth?",
        help_text=f"The study is for {wanted.lower()} participants only (registry record).",
        origin="registry sex",
        choices=("Female", "Male"),
        rules=(DraftRule(RuleEffect.REVIEW, RuleOperator.IS, other),),
    )


def _condition_question(
    healthy_volunteers: bool | None, conditions: list[str]
) -> DraftQuestion | None:
    if healthy_volunteers is not False or not conditions:
        return None
    return DraftQuestion(
        kind=QuestionKind.YES_NO,
        text=_cut(f"Have you been diagnosed with {', '.join(conditions)}?", TEXT_MAX),
        help_text="The study does not accept healthy volunteers (registry record).",
        origin="registry healthy volunteers",
        rules=(DraftRule(RuleEffect.REVIEW, RuleOperator.IS, "no"),),
    )


def _criterion_question(section: str, number: int, bullet: _Bullet) -> DraftQuestion:
    # Inclusion: a "no" means the person may lack what the study needs. Exclusion: a "yes"
    # means they may have what rules them out. Either way the study team looks (module doc).
    answer = "no" if section == "inclusion" else "yes"
    details = "; ".join(bullet.details)
    help_text = f"From the registry's {section} criteria ({number}). Reword it for the person."
    if details:
        help_text = f"{help_text} Details: {details}"
    return DraftQuestion(
        kind=QuestionKind.YES_NO,
        text=_cut(bullet.text, TEXT_MAX),
        help_text=_cut(help_text, HELP_MAX),
        origin=f"{section} {number}",
        rules=(DraftRule(RuleEffect.REVIEW, RuleOperator.IS, answer),),
    )


def draft_questions(
    *,
    minimum_age: str,
    maximum_age: str,
    sex: str,
    healthy_volunteers: bool | None,
    conditions: list[str],
    criteria: str,
) -> list[DraftQuestion]:
    """The draft, structured questions first, then inclusion and exclusion bullets in order."""
    questions = [
        q
        for q in (
            _age_question(minimum_age, maximum_age),
            _sex_question(sex),
            _condition_question(healthy_volunteers, conditions),
        )
        if q is not None
    ]
    for section, bullets in criteria_bullets(criteria).items():
        questions += [
            _criterion_question(section, number, bullet)
            for number, bullet in enumerate(bullets, start=1)
        ]
    return questions
