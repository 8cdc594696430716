"""Rollups: what the dashboards and sponsor reports read, so their cost grows with
days x groups, never with leads.

A row is one cohort: the leads of one StudySite and one source received on one day, with how many
of them have reached each milestone so far. A lead's cohort never changes (its StudySite, source
and received_at are fixed), so refreshing a lead's cohort after it moves keeps the table exact.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

# Hours from receipt to first contact: bucket i holds the leads contacted in
# [FIRST_CONTACT_BUCKETS[i-1], FIRST_CONTACT_BUCKETS[i]) hours; the last bucket is open-ended.
FIRST_CONTACT_BUCKETS: tuple[int, ...] = (1, 2, 4, 8, 24, 48, 96, 168)


class DailyCohort(models.Model):
    organization = models.ForeignKey(
        "tenancy.Organization", models.CASCADE, related_name="+", db_index=False
    )
    study_site = models.ForeignKey(
        "studies.StudySite", models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=30)
    day = models.DateField()
    received = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    prescreened = models.PositiveIntegerField(default=0)
    records_ready = models.PositiveIntegerField(default=0)
    scheduled = models.PositiveIntegerField(default=0)
    handed_off = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    # First contact later than the SLA due time, or still missing after it (as of refreshed_at).
    sla_missed = models.PositiveIntegerField(default=0)
    # Open and past stale_at (as of refreshed_at).
    stale = models.PositiveIntegerField(default=0)
    first_contact_hours = ArrayField(models.PositiveIntegerField(), default=list)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "study_site", "source", "day"], name="cohort_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "day"], name="cohort_org_day")]
        indexes += [models.Index(fields=["study_site", "day"], name="cohort_study_site_day")]

    def __str__(self) -> str:
        return f"Cohort {self.study_site_id} {self.source} {self.day}"


class CohortWatermark(models.Model):
    """How far the incremental refresh has read leads' last_movement_at (one row)."""

    moved_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"Cohorts refreshed to {self.moved_until:%Y-%m-%d %H:%M}"


class UpdateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"


class SponsorUpdate(models.Model):
    """A site lead's update to the sponsor on one StudySite: the aggregates of the sponsor's own
    report and four short texts, checked for patient detail before release. A released update is
    a version the sponsor reads as it was released (its figures are kept, suppressed)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    study_site = models.ForeignKey(
        "studies.StudySite", models.PROTECT, related_name="sponsor_updates"
    )
    status = models.CharField(
        max_length=10, choices=UpdateStatus.choices, default=UpdateStatus.DRAFT
    )
    number = models.PositiveIntegerField(null=True, blank=True)  # 1, 2, … once released
    moved = models.TextField("What moved", blank=True)
    stalled = models.TextField("What stalled, and why", blank=True)
    decisions = models.TextField("Decisions needed from the sponsor", blank=True)
    next_steps = models.TextField("What the site will do before the next update", blank=True)
    # The sponsor report's tables at release: [{"title", "columns", "rows": [[label, cells]]}].
    figures = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-released_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study_site", "number"], name="sponsor_update_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True, released_at__isnull=True)
                | Q(status="released", number__isnull=False, released_at__isnull=False),
                name="sponsor_update_released_has_number",
            ),
        ]

    def __str__(self) -> str:
        return f"Sponsor update {self.number or 'draft'} of {self.study_site_id}"


class ReviewMetric(models.TextChoices):
    """The headline measures of "Is it improving?" an action item can promise to move."""

    RECEIVED = "received", "Leads received"
    CONTACTED = "contacted", "Contacted"
    SLA_MISSED = "sla_missed", "First contact SLA missed"
    HANDED_OFF = "handed_off", "Handed off"
    STALE = "stale", "Stale"


class Review(models.Model):
    """An organization's weekly review of one week (its Monday), made with its first action."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    week_start = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_start"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "week_start"], name="review_week")
        ]

    def __str__(self) -> str:
        return f"Review of the week of {self.week_start}"


class ActionItem(models.Model):
    """What a review decided: a named owner, a due date and the measure to look at again."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    review = models.ForeignKey(Review, models.CASCADE, related_name="items")
    owner = models.ForeignKey("tenancy.Membership", models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    metric = models.CharField(max_length=20, choices=ReviewMetric.choices)
    # The metric's value for the last full week when the item was made (a rate, or a count).
    baseline = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(
                fields=["owner", "due_on"], name="action_item_open", condition=Q(done_at=None)
            )
        ]

    def __str__(self) -> str:
        return self.title
