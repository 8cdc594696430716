"""The prescreen's forms: the builder's question and rule forms, the answers form (staff and
public, English and Spanish), the confirmation and the FHIR import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from prescreen.models import Outcome, Question, QuestionKind, RuleEffect, RuleOperator
from prescreen.scoring import AnswerValue
from trialsnest.lib.forms import PlainTextField
from trialsnest.lib.text import LINE_MAX

TEXT_ANSWER_MAX = 200
FIELD_PREFIX = "q_"


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(choices=QuestionKind.choices)
    text = PlainTextField(max_length=500, label="Question")
    text_es = PlainTextField(max_length=500, required=False, label="Question in Spanish")
    help_text = PlainTextField(max_length=500, required=False)
    help_text_es = PlainTextField(max_length=500, required=False, label="Help text in Spanish")
    required = forms.BooleanField(required=False, initial=True)
    public = forms.BooleanField(
        required=False,
        label="Ask on the public interest form",
        help_text="The person answers it themselves; they never see a result.",
    )
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=3000,
        help_text="Single and multiple choice: one option per line.",
    )
    choices_es = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=3000,
        label="Options in Spanish",
        help_text="One per line, in the same order (or none).",
    )
    unit = PlainTextField(max_length=40, required=False, help_text="Number: e.g. years, kg.")
    min_value = forms.DecimalField(required=False, max_digits=12, decimal_places=3)
    max_value = forms.DecimalField(required=False, max_digits=12, decimal_places=3)

    @classmethod
    def of(cls, question: Question | None, data: Any = None) -> QuestionForm:
        if question is None:
            return cls(data)
        initial = {name: getattr(question, name) for name in cls.base_fields}
        initial["choices"] = "\n".join(question.choices)
        initial["choices_es"] = "\n".join(question.choices_es)
        return cls(data, initial=initial)

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["choices"] = _lines(data["choices"])
        data["choices_es"] = _lines(data["choices_es"])
        return data


class RuleForm(forms.Form):
    operator = forms.ChoiceField(choices=RuleOperator.choices, label="When the answer")
    value = PlainTextField(max_length=200, required=False)
    effect = forms.ChoiceField(choices=RuleEffect.choices, label="it means")


class ConfirmForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=Outcome.choices, widget=forms.RadioSelect, label="Result to record"
    )
    reason = PlainTextField(
        max_length=LINE_MAX,
        required=False,
        help_text="Needed when the result differs from the computed one.",
    )

    def __init__(self, *args: Any, computed: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"outcome": computed})
        super().__init__(*args, **kwargs)
        self.computed = computed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") and data["outcome"] != self.computed and not data.get("reason"):
            self.add_error("reason", "Say why the result differs from the computed one.")
        return data


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(Outcome.LIKELY_FIT, "Likely fit"), (Outcome.NOT_A_FIT, "Not a fit")],
        widget=forms.RadioSelect,
        label="The study team found the person",
    )
    note = PlainTextField(
        max_length=LINE_MAX, label="What they decided, and who", help_text="E.g. “Dr Chen: fine.”"
    )


class FhirImportForm(forms.Form):
    file = forms.FileField(label="FHIR R4 Questionnaire (JSON)")


def field_name(question: Question) -> str:
    return f"{FIELD_PREFIX}{question.code}"


def _choices(question: Question, spanish: bool) -> list[tuple[str, str]]:
    labels = question.choices_es if spanish and question.choices_es else question.choices
    return list(zip(question.choices, labels, strict=True))


def _field(question: Question, spanish: bool, required: bool) -> forms.Field:
    label = (question.text_es if spanish else "") or question.text
    help_text = (question.help_text_es if spanish else "") or question.help_text
    common: dict[str, Any] = {"label": label, "help_text": help_text, "required": required}
    if question.kind == QuestionKind.YES_NO:
        return forms.ChoiceField(
            choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
        )
    if question.kind == QuestionKind.SINGLE:
        return forms.ChoiceField(
            choices=_choices(question, spanish), widget=forms.RadioSelect, **common
        )
    if question.kind == QuestionKind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=_choices(question, spanish), widget=forms.CheckboxSelectMultiple, **common
        )
    if question.kind == QuestionKind.NUMBER:
        # The unit is the site lead's English word: the Spanish question says it in its text.
        if question.unit and not spanish:
            common["help_text"] = " ".join(filter(None, [str(common["help_text"]), question.unit]))
        return forms.DecimalField(
            min_value=question.min_value,
            max_value=question.max_value,
            max_digits=12,
            decimal_places=3,
            **common,
        )
    if question.kind == QuestionKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return PlainTextField(max_length=TEXT_ANSWER_MAX, **common)


def answer_value(value: Any) -> AnswerValue | None:
    """A cleaned field value as stored (JSON): text, a list of choices, or None."""
    if value in (None, "", []):
        return None
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # "40", "7.5": never "4E+1"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


class AnswersForm(forms.Form):
    """One field per question. Saving progress requires nothing; submitting requires the
    required questions (`complete=True`)."""

    def __init__(
        self,
        *args: Any,
        questions: list[Question],
        spanish: bool = False,
        complete: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[field_name(question)] = _field(
                question, spanish, complete and question.required
            )

    @staticmethod
    def initial_of(questions: list[Question], answers: dict[str, AnswerValue]) -> dict[str, Any]:
        return {field_name(q): answers[str(q.code)] for q in questions if str(q.code) in answers}

    def answers(self) -> dict[str, AnswerValue | None]:
        """By question code; a question left empty is None (it clears a saved answer)."""
        return {
            str(q.code): answer_value(self.cleaned_data.get(field_name(q))) for q in self.questions
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.questions:
            raise ValidationError("There are no questions to answer.")
        return data
