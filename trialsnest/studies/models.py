"""The shared study catalog (Sponsor, Study) and each organization's StudySites."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, OuterRef, Subquery, Value
from django.db.models.expressions import CombinedExpression, Expression
from django.db.models.functions import Cast, Coalesce

from trialsnest.studies.search import ENGLISH, SPANISH, UNSTEMMED
from trialsnest.tenancy.models import Organization, Site


class Sponsor(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=300, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Study(models.Model):
    """A protocol in the shared catalog, owned by no organization."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    nct_id = models.CharField("NCT id", max_length=11, unique=True, null=True, blank=True)
    sponsor = models.ForeignKey(Sponsor, models.PROTECT, related_name="studies", null=True)
    brief_title = models.CharField(max_length=500)
    official_title = models.TextField(blank=True)
    acronym = models.CharField(max_length=100, blank=True)
    registry_status = models.CharField(max_length=40, blank=True)
    phases = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    conditions = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    interventions = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    keywords = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    brief_summary = models.TextField(blank=True)
    eligibility_criteria = models.TextField(blank=True)
    minimum_age = models.CharField(max_length=40, blank=True)
    maximum_age = models.CharField(max_length=40, blank=True)
    sex = models.CharField(max_length=10, blank=True)
    # The registry's "accepts healthy volunteers" (None: the record does not say).
    healthy_volunteers = models.BooleanField(null=True, blank=True)
    locations = models.JSONField(default=list, blank=True)
    # The study's part of its StudySites' search vectors (study_search_vector); kept current by
    # Study.save(), which passes it on to them.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brief_title"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return f"{self.nct_id} {self.brief_title}" if self.nct_id else self.brief_title

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        Study.objects.filter(pk=self.pk).update(search_vector=study_search_vector())
        StudySite.objects.filter(study_id=self.pk).update(search_vector=study_site_search_vector())


# Search (trialsnest/studies/search.py reads what people type): the public search finds a
# StudySite by every word its result card and page show, the study's and its own lay summaries.
# Each text is indexed stemmed in its language and unstemmed (`simple`), for prefixes.


def _joined(field: str) -> Func:
    return Func(F(field), Value(" "), function="array_to_string", output_field=models.TextField())


def _indexed(text: str | Expression, weight: str, language: str = ENGLISH) -> CombinedExpression:
    return SearchVector(text, weight=weight, config=language) + SearchVector(
        text, weight=weight, config=UNSTEMMED
    )


def study_search_vector() -> CombinedExpression:
    """Titles and conditions weigh most, then treatments and keywords, then the summary."""
    return (
        _indexed("brief_title", "A")
        + _indexed("acronym", "A")
        + _indexed(_joined("conditions"), "A")
        + _indexed("official_title", "B")
        + _indexed(_joined("interventions"), "B")
        + _indexed(_joined("keywords"), "B")
        + _indexed("brief_summary", "C")
    )


def study_site_search_vector() -> CombinedExpression:
    """The study's vector and the StudySite's own lay summaries (in English and in Spanish),
    which weigh as much as the treatments: they are what the site's card says."""
    study = Subquery(
        Study.objects.filter(pk=OuterRef("study_id")).values("search_vector")[:1],
        output_field=SearchVectorField(),
    )
    empty = Cast(Value(""), output_field=SearchVectorField())
    return CombinedExpression(
        Coalesce(study, empty),
        "||",
        _indexed("lay_summary", "B") + _indexed("lay_summary_es", "B", SPANISH),
        output_field=SearchVectorField(),
    )


class RecruitmentStatus(models.TextChoices):
    # Setting up: to recruit, every item of its launch checklist (studies/readiness.py) is done.
    NOT_YET_RECRUITING = "not_yet_recruiting", "Not yet recruiting"
    RECRUITING = "recruiting", "Recruiting"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"


class StudySite(models.Model):
    """A study running at one site of one organization."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="study_sites")
    site = models.ForeignKey(Site, models.PROTECT, related_name="study_sites")
    study = models.ForeignKey(Study, models.PROTECT, related_name="study_sites")
    recruitment_status = models.CharField(
        max_length=20, choices=RecruitmentStatus.choices, default=RecruitmentStatus.RECRUITING
    )
    enrollment_target = models.PositiveIntegerField(null=True, blank=True)
    lay_summary = models.TextField(blank=True)
    # Shown instead of lay_summary on the Spanish pages, when the site wrote one.
    lay_summary_es = models.TextField("lay summary in Spanish", blank=True)
    # What the public search finds this StudySite by (study_site_search_vector, GIN index);
    # kept current by StudySite.save() and Study.save().
    search_vector = SearchVectorField(null=True, editable=False)
    # The organization's ranking when an interest form says "any site" (lowest first).
    rank = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "study"], name="study_site_unique"),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="study_site_search")]
        permissions = [
            ("view_studysite_reports", "Can view aggregate recruitment reports of this StudySite"),
        ]

    def __str__(self) -> str:
        return f"{self.study.brief_title} @ {self.site.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        StudySite.objects.filter(pk=self.pk).update(search_vector=study_site_search_vector())
