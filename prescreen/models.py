"""Prescreen questionnaires, their versions, and the answers people gave.

A StudySite has one Questionnaire; it is asked as a QuestionnaireVersion. A published version is
frozen (services refuse to change it, and answers point at it, PROTECTed); editing it starts a
new draft copied from it. A response always names the version that was asked.

Outcomes are "likely fit / needs review / not a fit" for the study team to review: the study team
makes the final decision (DESIGN.md).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Outcome(models.TextChoices):
    LIKELY_FIT = "likely_fit", "Likely fit"
    NEEDS_REVIEW = "needs_review", "Needs review"
    NOT_A_FIT = "not_a_fit", "Not a fit"


class Questionnaire(models.Model):
    """The prescreen of one StudySite: the thread its versions hang on."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    study_site = models.OneToOneField(
        "studies.StudySite", models.PROTECT, related_name="prescreen_questionnaire"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Prescreen of {self.study_site_id}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    # A published version a newer one replaced: its answers still point at it.
    RETIRED = "retired", "Retired"


class QuestionnaireVersion(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    questionnaire = models.ForeignKey(Questionnaire, models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    # Where the draft came from ("ClinicalTrials.gov NCT…", "FHIR import", "version 2").
    origin = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="prescreen_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status="draft"),
                name="prescreen_one_draft",
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status="published"),
                name="prescreen_one_published",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="prescreen_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class QuestionKind(models.TextChoices):
    YES_NO = "yes_no", "Yes / no"
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple choice"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    TEXT = "text", "Short text"


class Question(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(QuestionnaireVersion, models.PROTECT, related_name="questions")
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    text = models.CharField(max_length=500)
    text_es = models.CharField("text in Spanish", max_length=500, blank=True)
    help_text = models.CharField(max_length=500, blank=True)
    help_text_es = models.CharField("help text in Spanish", max_length=500, blank=True)
    required = models.BooleanField(default=True)
    # Asked on the public interest form too (the person never sees an outcome).
    public = models.BooleanField(default=False)
    # Single and multiple choice: the options, in order (Spanish labels in the same order).
    choices = models.JSONField(default=list, blank=True)
    choices_es = models.JSONField(default=list, blank=True)
    # Number: its unit and the range an answer may take.
    unit = models.CharField(max_length=40, blank=True)
    min_value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    max_value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    # Which bullet of the registry record a drafted question came from ("inclusion 3").
    origin = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in QuestionKind]),
                name="prescreen_question_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class RuleEffect(models.TextChoices):
    KNOCKOUT = "knockout", "Not a fit (knockout)"
    REVIEW = "review", "Needs study-team review"


class RuleOperator(models.TextChoices):
    IS = "is", "is"  # yes/no, single choice; multiple choice: includes
    BELOW = "below", "is below"  # number
    ABOVE = "above", "is above"  # number
    BEFORE = "before", "is before"  # date (ISO)
    AFTER = "after", "is after"  # date (ISO)
    UNANSWERED = "unanswered", "is not answered"


class Rule(models.Model):
    """When the answer to its question matches, the outcome is at least `effect`."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    question = models.ForeignKey(Question, models.PROTECT, related_name="rules")
    effect = models.CharField(max_length=10, choices=RuleEffect.choices)
    operator = models.CharField(max_length=12, choices=RuleOperator.choices)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_operator_display()} {self.value} → {self.get_effect_display()}"


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Awaiting confirmation"
    CONFIRMED = "confirmed", "Confirmed"


class ResponseChannel(models.TextChoices):
    COORDINATOR = "coordinator", "Asked by a coordinator"
    SELF = "self", "Self-prescreen on the interest form"


class PrescreenResponse(models.Model):
    """One asking of a version's questions for one lead (partial progress is kept)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    lead = models.ForeignKey("leads.Lead", models.PROTECT, related_name="prescreens")
    version = models.ForeignKey(QuestionnaireVersion, models.PROTECT, related_name="responses")
    channel = models.CharField(
        max_length=12, choices=ResponseChannel.choices, default=ResponseChannel.COORDINATOR
    )
    status = models.CharField(
        max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    computed_outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    # The rules that fired when it was scored: [{"rule", "question", "text", "effect", "why"}].
    fired = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    override_reason = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A "needs review" result, once the study team looked: what they said, recorded by whom.
    review_outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=~Q(status="confirmed"),
                name="prescreen_one_open_response_per_lead",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | ~Q(outcome=""),
                name="prescreen_confirmed_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"Prescreen {self.code}"

    @property
    def overridden(self) -> bool:
        return bool(self.outcome) and self.outcome != self.computed_outcome


class Answer(models.Model):
    response = models.ForeignKey(PrescreenResponse, models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, models.PROTECT, related_name="answers")
    # "yes"/"no", a choice, a list of choices, a number or an ISO date as text, or free text.
    value = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="prescreen_one_answer_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question_id}"

    @property
    def display(self) -> str:
        """The answer as a line of text (the choices of a multiple choice joined)."""
        value = self.value
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
