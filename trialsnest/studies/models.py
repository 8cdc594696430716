"""The shared study catalog (Sponsor, Study) and each organization's StudySites."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

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
    keywords = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    brief_summary = models.TextField(blank=True)
    eligibility_criteria = models.TextField(blank=True)
    minimum_age = models.CharField(max_length=40, blank=True)
    maximum_age = models.CharField(max_length=40, blank=True)
    sex = models.CharField(max_length=10, blank=True)
    locations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brief_title"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return f"{self.nct_id} {self.brief_title}" if self.nct_id else self.brief_title


class RecruitmentStatus(models.TextChoices):
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
    # The organization's ranking when an interest form says "any site" (lowest first).
    rank = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "study"], name="study_site_unique"),
        ]
        permissions = [
            ("view_studysite_reports", "Can view aggregate recruitment reports of this StudySite"),
        ]

    def __str__(self) -> str:
        return f"{self.study.brief_title} @ {self.site.name}"
