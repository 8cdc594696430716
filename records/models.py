"""Records readiness: what a StudySite needs from a lead's medical records, who holds them, and
where each record of each lead stands.

A lead at the records step has one RecordItem per item of its StudySite's checklist; each moves
needed → requested → received → reviewed (an insufficient review sends it back to requested).
Check constraints make the database refuse an item whose fields contradict its state.
"""

from __future__ import annotations

import datetime
import uuid
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

LOOKBACK_DAYS = (1, 3650)  # a look-back window is a day to ten years


class RecordRequirement(models.Model):
    """One item of a StudySite's records checklist ("HbA1c within 90 days")."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    study_site = models.ForeignKey(
        "studies.StudySite", models.PROTECT, related_name="record_requirements"
    )
    name = models.CharField(max_length=120, help_text="e.g. HbA1c, Last colonoscopy report")
    required = models.BooleanField(
        default=True, help_text="A lead is ready to schedule once every required item is in."
    )
    lookback_days = models.PositiveIntegerField(
        "look-back window (days)",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(LOOKBACK_DAYS[0], "Give a window of at least a day."),
            MaxValueValidator(LOOKBACK_DAYS[1], "Give a window of at most ten years."),
        ],
        help_text="How recent the record must be; empty for any date.",
    )
    instructions = models.TextField(
        blank=True,
        max_length=2000,
        help_text="What the provider should send (printed on the letter).",
    )
    position = models.PositiveSmallIntegerField(default=0)
    # Retired items stay for the leads that have them; new leads no longer get them.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "study_site",
                condition=Q(archived_at__isnull=True),
                name="record_requirement_name_unique",
                violation_error_message="The checklist already has an item of this name.",
            ),
            models.CheckConstraint(
                condition=Q(lookback_days__isnull=True)
                | Q(lookback_days__gte=LOOKBACK_DAYS[0], lookback_days__lte=LOOKBACK_DAYS[1]),
                name="record_requirement_lookback_range",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.lookback_days:
            return f"{self.name} within {self.lookback_days} days"
        return self.name


class Provider(models.Model):
    """A practice that holds patients' records, in the organization's directory."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    practice = models.CharField(max_length=200)
    contact_name = models.CharField("contact", max_length=200, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    fax = models.CharField(max_length=30, blank=True)
    email = models.EmailField("e-mail", blank=True)
    portal_url = models.URLField("portal link", blank=True)
    notes = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("practice"),
                "organization",
                name="provider_practice_unique",
                violation_error_message="The directory already has a practice of this name.",
            ),
            # A provider the site cannot reach is no use for a request.
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(fax="") | ~Q(email="") | ~Q(portal_url=""),
                name="provider_reachable",
                violation_error_message="Give at least one way to reach the provider.",
            ),
        ]

    def __str__(self) -> str:
        return self.practice


class Method(models.TextChoices):
    FAX = "fax", "Fax"
    EMAIL = "email", "E-mail"
    PORTAL = "portal", "Portal"
    PHONE = "phone", "Phone"
    MAIL = "mail", "Mail"
    PATIENT = "patient", "Patient brings them"


class ItemState(models.TextChoices):
    NEEDED = "needed", "Needed"
    REQUESTED = "requested", "Requested"
    RECEIVED = "received", "Received"
    REVIEWED = "reviewed", "Reviewed: sufficient"


REQUESTED_OR_LATER = (ItemState.REQUESTED, ItemState.RECEIVED, ItemState.REVIEWED)
RECEIVED_OR_LATER = (ItemState.RECEIVED, ItemState.REVIEWED)


class RecordItem(models.Model):
    """One checklist item for one lead, and where it stands."""

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        ItemState.NEEDED: (ItemState.REQUESTED,),
        ItemState.REQUESTED: (ItemState.REQUESTED, ItemState.RECEIVED),  # again: a follow-up
        ItemState.RECEIVED: (ItemState.REVIEWED, ItemState.REQUESTED),  # insufficient: again
        ItemState.REVIEWED: (),
    }

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The lead's organization, copied for tenant filters.
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    lead = models.ForeignKey("leads.Lead", models.PROTECT, related_name="record_items")
    requirement = models.ForeignKey(RecordRequirement, models.PROTECT, related_name="items")
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.NEEDED)

    provider = models.ForeignKey(
        Provider, models.PROTECT, null=True, blank=True, related_name="items"
    )
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    requested_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    authorization_on_file = models.BooleanField("signed HIPAA authorisation on file", default=False)
    follow_ups = models.PositiveSmallIntegerField(default=0)
    last_follow_up_on = models.DateField(null=True, blank=True)

    received_on = models.DateField(null=True, blank=True)
    record_date = models.DateField("date of the record", null=True, blank=True)
    # Whether the record's own date fell within the look-back window when it was received
    # (null: the checklist item has no window).
    within_lookback = models.BooleanField(null=True, blank=True)

    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Why the last review found the record insufficient (kept when it is requested again).
    insufficient_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # No default ordering: it would join the checklist on every read (lead_items orders).
        indexes = [
            # The queue's records tab: a page of leads' outstanding requests, soonest due first.
            models.Index(
                fields=["lead", "due_on"],
                name="record_item_outstanding",
                condition=Q(state=ItemState.REQUESTED),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["lead", "requirement"], name="record_item_unique"),
            models.CheckConstraint(
                condition=Q(state__in=ItemState.values), name="record_item_state_known"
            ),
            models.CheckConstraint(
                condition=Q(state=ItemState.NEEDED)
                | (
                    Q(provider__isnull=False)
                    & ~Q(method="")
                    & Q(requested_on__isnull=False)
                    & Q(due_on__isnull=False)
                    & Q(due_on__gte=F("requested_on"))
                ),
                name="record_item_request_complete",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=RECEIVED_OR_LATER)
                | (
                    Q(received_on__isnull=False, record_date__isnull=False)
                    & Q(received_on__gte=F("requested_on"))
                    & Q(record_date__lte=F("received_on"))
                ),
                name="record_item_receipt_complete",
            ),
            models.CheckConstraint(
                condition=~Q(state=ItemState.REVIEWED) | Q(reviewed_at__isnull=False),
                name="record_item_review_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id} for lead {self.lead_id}: {self.state}"

    def overdue_days(self, today: datetime.date) -> int:
        """Days past the due date of an outstanding request (0: not overdue)."""
        if self.state != ItemState.REQUESTED or self.due_on is None:
            return 0
        return max((today - self.due_on).days, 0)
