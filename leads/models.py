"""People, leads and their timeline.

The invariant (DESIGN.md): every open lead has an owner, a status and a next action with a due
time; every closed lead has a close reason. Services keep it, and check constraints make the
database refuse anything else.
"""

from __future__ import annotations

import datetime
import uuid
from datetime import timedelta
from itertools import pairwise
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import BaseValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Outreach's models are leads models kept in their own module (they import nothing of this one).
from leads.outreach.models import (  # noqa: F401
    InboundMessage,
    MessageTemplate,
    MessageTemplateVersion,
    OutboundMessage,
    OutreachSettings,
)
from trialsnest.lib.text import name_words_sql


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"


class Person(models.Model):
    """One human, per organization. Deduplicated on phone/e-mail (intake issue)."""

    # Who the person is and how to reach them: what every door (web form, API, CSV) may set and
    # a merge chooses between. PHI_FIELDS are the ones the audit trail names but never copies.
    CONTACT_FIELDS: ClassVar[tuple[str, ...]] = (
        "first_name",
        "last_name",
        "phone",
        "email",
        "date_of_birth",
        "postal_code",
        "preferred_channel",
        "preferred_time",
        "preferred_language",
    )
    PHI_FIELDS: ClassVar[tuple[str, ...]] = CONTACT_FIELDS[:6]

    # The database can make codes too (gen_random_uuid, core PostgreSQL) for set-based imports.
    code = models.UUIDField(
        default=uuid.uuid4, db_default=RandomUUID(), unique=True, editable=False
    )
    organization = models.ForeignKey(
        "tenancy.Organization", models.PROTECT, related_name="+", db_index=False
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +13125550100")
    email = models.EmailField(blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    preferred_time = models.CharField(max_length=100, blank=True)
    preferred_language = models.CharField(max_length=20, blank=True, default="en")
    consent_phone = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    consent_text_version = models.CharField(max_length=40, blank=True)
    # When the consent on record was last given (with consent_text_version: what it said).
    consent_given_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the person's details were erased on their request (leads.erasure).
    erased_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A merged duplicate points at the person it was merged into; nothing is deleted.
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged_from"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "date_of_birth"], name="person_org_dob"),
            models.Index(fields=["organization", "phone"], name="person_org_phone"),
            models.Index(fields=["organization", "email"], name="person_org_email"),
            # The staff search by the start of any word of the name (leads/selectors.py
            # search): a GIN index on the folded words answers 'garc':* with an index scan.
            GinIndex(name_words_sql(F("first_name"), F("last_name")), name="person_name_words"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def consents_to(self, channel: str) -> bool:
        return bool(getattr(self, f"consent_{channel}", False))


class OptOut(models.Model):
    """The opt-out ledger: append-only entries, one per opt-out event."""

    person = models.ForeignKey(Person, models.PROTECT, related_name="opt_outs")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    at = models.DateTimeField()
    evidence = models.TextField(blank=True)
    consent_text_version = models.CharField(max_length=40, blank=True)
    # Lifted only by the person's own explicit opt-in (an SMS START from the same number):
    # the entry stays, with when and what said so.
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.channel} opt-out at {self.at:%Y-%m-%d}"


class Status(models.TextChoices):
    NEW = "new", "New"
    CONTACTING = "contacting", "Contacting"
    PRESCREENING = "prescreening", "Prescreening"
    NEEDS_REVIEW = "needs_review", "Needs review"
    RECORDS_PENDING = "records_pending", "Records pending"
    RECORDS_READY = "records_ready", "Ready to schedule"
    VISIT_SCHEDULED = "visit_scheduled", "Visit scheduled"
    HANDED_OFF = "handed_off", "Handed off"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (
    Status.NEW,
    Status.CONTACTING,
    Status.PRESCREENING,
    Status.NEEDS_REVIEW,
    Status.RECORDS_PENDING,
    Status.RECORDS_READY,
    Status.VISIT_SCHEDULED,
)

# DESIGN.md's status table. Reopening a closed lead (to contacting) needs a reason.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.CONTACTING, Status.PRESCREENING, Status.CLOSED),
    Status.CONTACTING: (Status.PRESCREENING, Status.CLOSED),
    Status.PRESCREENING: (Status.NEEDS_REVIEW, Status.RECORDS_PENDING, Status.CLOSED),
    Status.NEEDS_REVIEW: (Status.PRESCREENING, Status.RECORDS_PENDING, Status.CLOSED),
    Status.RECORDS_PENDING: (Status.RECORDS_READY, Status.CLOSED),
    Status.RECORDS_READY: (Status.VISIT_SCHEDULED, Status.CLOSED),
    Status.VISIT_SCHEDULED: (Status.HANDED_OFF, Status.RECORDS_READY, Status.CLOSED),
    Status.HANDED_OFF: (),
    Status.CLOSED: (Status.CONTACTING,),
}
# Moves that a flow of its own makes, never the status form: booking a visit (scheduling) moves
# a lead to visit scheduled, so no lead is "scheduled" without a visit.
NOT_BY_HAND: tuple[str, ...] = (Status.VISIT_SCHEDULED,)


class CloseReason(models.TextChoices):
    NOT_INTERESTED = "not_interested", "Not interested"
    UNREACHABLE = "unreachable", "Unreachable"
    NOT_A_FIT = "not_a_fit", "Not a fit"
    DUPLICATE = "duplicate", "Duplicate"
    OPTED_OUT = "opted_out", "Opted out"
    WITHDRAWN = "withdrawn", "Withdrawn"
    STUDY_CLOSED = "study_closed", "Study closed"


class Blocker(models.TextChoices):
    NO_RESPONSE = "no_response", "No response"
    AWAITING_CALLBACK = "awaiting_callback", "Awaiting callback"
    MISSING_RECORDS = "missing_records", "Missing records"
    AWAITING_REVIEW = "awaiting_review", "Awaiting study-team review"
    SCHEDULING_CONSTRAINT = "scheduling_constraint", "Scheduling constraint"
    PATIENT_AVAILABILITY = "patient_availability", "Patient availability"
    STUDY_PAUSED = "study_paused", "Study paused"
    OTHER = "other", "Other"


class ActionKind(models.TextChoices):
    FIRST_CONTACT = "first_contact", "First contact"
    FOLLOW_UP = "follow_up", "Follow-up attempt"
    CALLBACK = "callback", "Callback"
    CONDUCT_PRESCREEN = "conduct_prescreen", "Conduct prescreen"
    REVIEW_PRESCREEN = "review_prescreen", "Review prescreen"
    REQUEST_RECORDS = "request_records", "Request records"
    CHASE_RECORDS = "chase_records", "Chase records"
    REVIEW_RECORDS = "review_records", "Review records"
    SCHEDULE_VISIT = "schedule_visit", "Schedule visit"
    CONFIRM_VISIT = "confirm_visit", "Confirm visit"
    HAND_OFF = "hand_off", "Hand off"
    STALE_REVIEW = "stale_review", "Stale review"
    CLOSE_UNREACHABLE = "close_unreachable", "Close as unreachable"


# The next action a status implies when the user does not choose one, the SLA target that
# applies while a lead is in it (a Policy field), and the milestone time it stamps.
DEFAULT_ACTION: dict[str, str] = {
    Status.NEW: ActionKind.FIRST_CONTACT,
    Status.CONTACTING: ActionKind.FOLLOW_UP,
    Status.PRESCREENING: ActionKind.CONDUCT_PRESCREEN,
    Status.NEEDS_REVIEW: ActionKind.REVIEW_PRESCREEN,
    Status.RECORDS_PENDING: ActionKind.REQUEST_RECORDS,
    Status.RECORDS_READY: ActionKind.SCHEDULE_VISIT,
    Status.VISIT_SCHEDULED: ActionKind.CONFIRM_VISIT,
}
SLA_FIELD: dict[str, str] = {
    Status.NEW: "sla_first_response_hours",
    Status.NEEDS_REVIEW: "sla_prescreen_review_hours",
    Status.RECORDS_PENDING: "sla_records_request_hours",
    Status.RECORDS_READY: "sla_scheduling_hours",
}
MILESTONE: dict[str, str] = {
    Status.PRESCREENING: "prescreened_at",
    Status.RECORDS_READY: "records_ready_at",
    Status.VISIT_SCHEDULED: "scheduled_at",
    Status.HANDED_OFF: "handed_off_at",
    Status.CLOSED: "closed_at",
}


class Source(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    REFERRAL_PARTNER = "referral_partner", "Referral partner"
    VENDOR_LIST = "vendor_list", "Vendor list"
    PHYSICIAN_REFERRAL = "physician_referral", "Physician referral"
    EHR_QUERY = "ehr_query", "EHR query"
    WALK_IN = "walk_in", "Walk-in"
    API = "api", "API"
    OTHER = "other", "Other"


OPEN_Q = Q(status__in=OPEN_STATUSES)


BLOCKER_TEXT_MAX = 300  # what an "other" blocker's text may say


class Lead(models.Model):
    """One person's candidacy for one StudySite."""

    # The database can make codes too (gen_random_uuid, core PostgreSQL) for set-based imports.
    code = models.UUIDField(
        default=uuid.uuid4, db_default=RandomUUID(), unique=True, editable=False
    )
    # The organization is the StudySite's, copied for tenant filters; the StudySite's own
    # foreign key vouches for it. Open-lead reads go through the partial indexes below, so the
    # StudySite and owner keys carry no index of their own (imports write 100,000 leads at once).
    organization = models.ForeignKey(
        "tenancy.Organization",
        models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(Person, models.PROTECT, related_name="leads")
    study_site = models.ForeignKey(
        "studies.StudySite", models.PROTECT, related_name="leads", db_index=False
    )
    source = models.CharField(max_length=30, choices=Source.choices)
    campaign = models.CharField(max_length=200, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    referral_partner = models.CharField(max_length=200, blank=True)
    material_version = models.CharField(max_length=100, blank=True)
    material = models.ForeignKey(
        "leads.RecruitmentMaterial",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        db_index=False,  # rarely set; never looked up by it
    )
    # Set when intake accepted something a site lead should look at (e.g. an expired material).
    flag = models.CharField(max_length=200, blank=True, db_default="")
    api_key = models.ForeignKey(
        "leads.ApiKey", models.PROTECT, null=True, blank=True, related_name="leads", db_index=False
    )

    owner = models.ForeignKey(
        "tenancy.Membership",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
        db_index=False,
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    blocker = models.CharField(max_length=30, choices=Blocker.choices, blank=True)
    blocker_text = models.CharField(max_length=BLOCKER_TEXT_MAX, blank=True)
    next_action = models.CharField(max_length=30, choices=ActionKind.choices, blank=True)
    next_action_due_at = models.DateTimeField(null=True, blank=True)
    # The one time that orders the queue: when this lead next needs someone. Null when closed
    # or held (study paused).
    attention_at = models.DateTimeField(null=True, blank=True)
    # When "no movement" turns the lead stale (last movement + the StudySite's stale period).
    stale_at = models.DateTimeField(null=True, blank=True)
    # When the stale sweep (leads.automation.stale) found the lead without movement past
    # stale_at and gave it to review; any movement after it clears it (refresh_attention).
    stale_marked_at = models.DateTimeField(null=True, blank=True)
    # Out of the coordinator's attention until then (snoozed): attention_at is at least this.
    # Any movement or a new next action ends the snooze.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # The SLA target of the current status (business hours of the site), when one applies.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # The SLA target the SLA job (leads.automation.sla) flagged as missed, and the one it
    # escalated: the lead is flagged while these equal sla_due_at, so a new status (a new
    # target) unflags it with no step of its own.
    sla_flagged_for = models.DateTimeField(null=True, blank=True)
    sla_escalated_for = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)

    received_at = models.DateTimeField()
    last_movement_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    first_contact_at = models.DateTimeField(null=True, blank=True)
    prescreened_at = models.DateTimeField(null=True, blank=True)
    records_ready_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~OPEN_Q
                | (
                    Q(owner__isnull=False)
                    & ~Q(next_action="")
                    & Q(next_action_due_at__isnull=False)
                ),
                name="open_lead_has_owner_and_next_action",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.CLOSED) | ~Q(close_reason=""),
                name="closed_lead_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="lead_status_known"
            ),
        ]
        indexes = [
            # The queue: open leads of an organization in order of attention, keyset-paged.
            models.Index(
                fields=["organization", "attention_at", "id"],
                name="lead_queue",
                condition=OPEN_Q,
            ),
            # The "Waiting on records" tab, in the same order: a small share of the open leads,
            # which the open-lead indexes would read all of to sort.
            models.Index(
                fields=["organization", "attention_at", "id"],
                name="lead_queue_records",
                condition=Q(status="records_pending"),
            ),
            models.Index(
                fields=["study_site", "attention_at", "id"],
                name="lead_queue_study_site",
                condition=OPEN_Q,
            ),
            models.Index(
                fields=["owner", "attention_at", "id"],
                name="lead_queue_owner",
                condition=OPEN_Q,
            ),
            # SLA targets by time; it also carries what the dashboard's summary of the open leads
            # and its newly stalled / newly stale counts read (reporting/selectors.py, review.py),
            # so those are index-only scans: at 1M leads 150 ms of scattered heap reads became 15.
            # Widening lead_counts instead slowed the queue's counts, and a further index would
            # cost every write to a lead.
            models.Index(
                fields=["organization", "sla_due_at"],
                include=[
                    "study_site",
                    "owner",
                    "status",
                    "next_action_due_at",
                    "first_contact_at",
                    "stale_at",
                    "stale_marked_at",
                    "status_changed_at",
                ],
                name="lead_sla",
                condition=OPEN_Q,
            ),
            # The handoff API (leads/api/handoffs.py): handed-off leads by cursor, a small share.
            models.Index(
                fields=["organization", "handed_off_at", "code"],
                name="lead_handoffs",
                condition=Q(handed_off_at__isnull=False),
            ),
            # The stale sweep (leads.automation.stale): open leads not yet marked, soonest stale
            # first. A marked lead leaves it, so the daily sweep reads the day's increment only.
            models.Index(
                fields=["stale_at", "id"],
                name="lead_stale_due",
                condition=OPEN_Q & Q(stale_marked_at__isnull=True),
            ),
            # The Team page's list of leads intake flagged (an expired material): a few rows.
            models.Index(
                fields=["organization", "received_at", "id"],
                name="lead_flagged",
                condition=~Q(flag=""),
            ),
            # The tab counts: an index-only scan over a member's open leads.
            models.Index(
                fields=["organization", "study_site"],
                include=[
                    "status",
                    "blocker",
                    "attention_at",
                    "next_action_due_at",
                    "sla_due_at",
                    "stale_at",
                ],
                name="lead_counts",
                condition=OPEN_Q,
            ),
            # Reporting's rollups: a cohort (StudySite, day received) read again after a move,
            # and the leads that moved since the last refresh (reporting/rollups.py).
            models.Index(fields=["study_site", "received_at"], name="lead_cohort"),
            models.Index(fields=["last_movement_at"], name="lead_moved"),
        ]

    def __str__(self) -> str:
        return f"Lead {self.code}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def transitions_by_hand(self) -> tuple[str, ...]:
        """The statuses a member may move this lead to with the status form."""
        return tuple(s for s in TRANSITIONS[self.status] if s not in NOT_BY_HAND)


class ActivityKind(models.TextChoices):
    RECEIVED = "received", "Received"
    CONTACT_ATTEMPT = "contact_attempt", "Contact attempt"
    NOTE = "note", "Note"
    STATUS_CHANGE = "status_change", "Status change"
    ASSIGNMENT = "assignment", "Assignment"
    NEXT_ACTION = "next_action", "Next action"
    BLOCKER = "blocker", "Blocker"
    REPEAT_INTEREST = "repeat_interest", "Repeat interest"
    SNOOZE = "snooze", "Snoozed"
    # A record item of the lead moved (records app): data["detail"] says which and how.
    RECORDS = "records", "Records"
    MESSAGE = "message", "Message"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class Outcome(models.TextChoices):
    REACHED = "reached", "Reached"
    NO_ANSWER = "no_answer", "No answer"
    VOICEMAIL = "voicemail", "Left voicemail"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    CALL_BACK_LATER = "call_back_later", "Call back later"


class Activity(models.Model):
    """The lead's timeline. Append-only.

    The organization is the lead's (a copy for tenant filters), kept without a foreign-key check
    of its own, as is the actor: bulk imports write one entry per lead.
    """

    organization = models.ForeignKey(
        "tenancy.Organization",
        models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # No index of its own: activity_timeline starts with the lead (one index less to write for
    # every entry; the stale sweep and an import write one per lead).
    lead = models.ForeignKey(Lead, models.PROTECT, related_name="activities", db_index=False)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "-at", "-id"], name="activity_timeline")]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


def default_cadence() -> list[int]:
    return [0, 24, 72, 168]


# What a policy may say, for the form and every other door: a target of 0 is missed the moment
# a lead arrives, and one of months is no target at all.
SLA_HOURS = (1, 480)  # business hours: up to 12 weeks of 40 hours
WAIT_HOURS = (1, 24 * 90)  # after the last attempt, before closing as unreachable
CADENCE_HOURS = (0, 24 * 90)  # when each attempt is due, after the first
CADENCE_ATTEMPTS = 12
STALE_DAYS = (1, 90)


def between(bounds: tuple[int, int], what: str) -> list[BaseValidator]:
    low, high = bounds
    message = f"Give {what} from {low:,} to {high:,}."
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]


def check_cadence(hours: list[int]) -> None:
    """A cadence is 1 to CADENCE_ATTEMPTS attempts, each later than the one before."""
    low, high = CADENCE_HOURS
    increasing = all(a < b for a, b in pairwise(hours))
    if not 1 <= len(hours) <= CADENCE_ATTEMPTS or not increasing or hours[0] < low:
        raise ValidationError(
            f"Give 1 to {CADENCE_ATTEMPTS} attempts, in increasing order, starting at {low} or "
            "later."
        )
    if hours[-1] > high:
        raise ValidationError(
            f"Keep every attempt within {high:,} hours ({high // 24} days) of the first."
        )


class Policy(models.Model):
    """Per-StudySite contact cadence and SLA targets, editable by site leads."""

    study_site = models.OneToOneField(
        "studies.StudySite", models.CASCADE, related_name="policy", primary_key=True
    )
    cadence_hours = ArrayField(
        models.PositiveIntegerField(validators=between(CADENCE_HOURS, "hours")),
        default=default_cadence,
        help_text="Hours after the first attempt at which each attempt is due.",
    )
    final_wait_hours = models.PositiveIntegerField(
        default=72, validators=between(WAIT_HOURS, "hours")
    )
    sla_first_response_hours = models.PositiveIntegerField(
        default=8, validators=between(SLA_HOURS, "business hours")
    )
    sla_prescreen_review_hours = models.PositiveIntegerField(
        default=16, validators=between(SLA_HOURS, "business hours")
    )
    sla_records_request_hours = models.PositiveIntegerField(
        default=16, validators=between(SLA_HOURS, "business hours")
    )
    sla_scheduling_hours = models.PositiveIntegerField(
        default=24, validators=between(SLA_HOURS, "business hours")
    )
    stale_after_days = models.PositiveIntegerField(
        default=7, validators=between(STALE_DAYS, "days")
    )
    # After a missed target, business hours before the one who must decide hears of it.
    sla_escalate_after_hours = models.PositiveIntegerField(
        default=8, validators=between(SLA_HOURS, "business hours")
    )
    # Who decides for the study team (the investigator or their delegate): escalations of a
    # lead awaiting the study team's review go to them, else to the site leads.
    study_team = models.ManyToManyField("tenancy.Membership", blank=True, related_name="+")

    class Meta:
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"Policy of {self.study_site_id}"


class SavedView(models.Model):
    """A named set of queue filters, private to its owner or shared with the organization."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.CASCADE, related_name="+")
    owner = models.ForeignKey("tenancy.Membership", models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000)
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RecruitmentMaterial(models.Model):
    """An IRB-approved recruitment material version (flyer, ad, web page)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.CASCADE, related_name="+")
    study_site = models.ForeignKey(
        "studies.StudySite", models.CASCADE, related_name="materials", null=True, blank=True
    )
    material_code = models.SlugField("code", max_length=60, help_text="e.g. FLYER-V3")
    title = models.CharField(max_length=200)
    approved_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["material_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "material_code"], name="material_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("approved_on")),
                name="material_expires_after_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_code} ({self.title})"


def _intake_only() -> list[str]:
    return ["intake"]


class ApiKey(models.Model):
    """An API key of one organization: to send leads (as one source or referral partner) and
    follow them, to read the leads handed off to the study team (patient data), or both."""

    class Scope(models.TextChoices):
        INTAKE = "intake", "Send leads and follow the ones it sent"
        HANDOFF = "handoff", "Read the leads handed off to the study team (patient details)"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=30, choices=Source.choices, default=Source.API)
    referral_partner = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=12, unique=True)
    hashed_key = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = ArrayField(
        models.CharField(max_length=20, choices=Scope.choices), default=_intake_only
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The first answer to a request with an Idempotency-Key, replayed on retries."""

    api_key = models.ForeignKey(ApiKey, models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class Submission(models.Model):
    """Interest as received (web form, API), kept before it becomes a lead: never lost.

    The payload holds PHI; it is kept so a submission that failed to process can be retried.
    """

    class Channel(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        API = "api", "API"

    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    study_site = models.ForeignKey("studies.StudySite", models.PROTECT, related_name="+")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    lead = models.ForeignKey(Lead, models.PROTECT, null=True, blank=True, related_name="+")
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["received_at"],
                name="submission_pending",
                condition=Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} submission {self.pk}"


class CsvImport(models.Model):
    """A vendor or referral list: the original file, its column mapping, and the outcome.

    A worker checks every row once (`analyzing`) and keeps each row's outcome (CsvImportRow);
    after a person confirms, it writes them chunk by chunk, each chunk one transaction that
    moves `written_through` on. The worker holds a lease on the import while it works
    (`lease_owner` until `lease_until`, renewed each chunk): a worker that dies leaves a lease
    that expires, and the beat task hands the import to another worker, which carries on
    from the last committed chunk (leads.intake.csv.runner).
    """

    class State(models.TextChoices):
        ANALYZING = "analyzing", "Checking the rows"
        ANALYZED = "analyzed", "Checked, waiting for confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # States a worker owes work to: the beat task resumes them when their lease runs out.
    ACTIVE: ClassVar[tuple[str, ...]] = (State.ANALYZING, State.QUEUED, State.RUNNING)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    study_site = models.ForeignKey("studies.StudySite", models.PROTECT, related_name="+")
    source = models.CharField(max_length=30, choices=Source.choices, default=Source.VENDOR_LIST)
    campaign = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    header = models.JSONField(default=list)  # the file's first line, for the mapping form
    mapping = models.JSONField(default=dict)
    consent_attested = models.BooleanField(default=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.ANALYZING)
    # What the check of every row found, by outcome (the preview's counts).
    planned = models.JSONField(default=dict)
    analyzed_at = models.DateTimeField(null=True, blank=True)
    # The newest person when the rows were checked: anyone after it may be a match the check
    # could not see, and the writer asks about them (leads.intake.csv.matching.recheck).
    checked_person_id = models.BigIntegerField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # The last line of the last committed chunk: everything up to it is written.
    written_through = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    attached = models.PositiveIntegerField(default=0)
    suspected = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # Workers' claims since the last start (or retry); past CSV_IMPORT_MAX_ATTEMPTS it fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Imports from before the rows were kept: their rejected rows as a file.
    rejected_file = models.FileField(upload_to="imports/rejected/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def resumed(self) -> bool:
        """A worker took it over from one that stopped (died or lost its lease)."""
        return self.attempts > 1


class CsvImportRow(models.Model):
    """One line of an import's file and what becomes (once its import's `written_through` has
    passed it: became) of it.

    The check reserves the ids of the people and leads a row will write, so writing it is
    exactly what the check said unless something changed in between (leads.intake.csv). The
    ids are references for the person reading the outcome, not integrity: without database
    constraints, 100,000 of them are written without 100,000 key checks.
    """

    class Outcome(models.TextChoices):
        CREATED = "created", "New person"
        ATTACHED = "attached", "Attached to a known person"
        SUSPECTED = "suspected", "New person, suspected duplicate"
        SKIPPED = "skipped", "Skipped as a duplicate"
        REJECTED = "rejected", "Rejected"

    csv_import = models.ForeignKey(CsvImport, models.CASCADE, related_name="rows", db_index=False)
    line = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    cells = models.JSONField(default=list)  # the row as the file has it
    # The person's fields as checked (reader.PERSON_FIELDS, in order); none if rejected.
    values = models.JSONField(default=list)
    # An earlier line of this file with the same phone or e-mail: the same person for a
    # skipped row, someone else (a household) otherwise.
    matched_line = models.PositiveIntegerField(null=True, blank=True)
    # The organization's person (and open lead) the row was decided against.
    matched_person = models.ForeignKey(
        Person, models.DO_NOTHING, null=True, db_constraint=False, db_index=False, related_name="+"
    )
    matched_lead = models.ForeignKey(
        Lead, models.DO_NOTHING, null=True, db_constraint=False, db_index=False, related_name="+"
    )
    # What the import writes (wrote) for the row: the person its lead is for, and the lead.
    person = models.ForeignKey(
        Person, models.DO_NOTHING, null=True, db_constraint=False, db_index=False, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, models.DO_NOTHING, null=True, db_constraint=False, db_index=False, related_name="+"
    )

    class Meta:
        # One index: a page or a download of one outcome walks the import's lines in order,
        # and the writer takes its chunks the same way.
        constraints = [
            models.UniqueConstraint(fields=["csv_import", "line"], name="csv_import_row_line"),
        ]

    def __str__(self) -> str:
        return f"{self.csv_import_id}:{self.line}"

    @property
    def duplicate_in_file(self) -> bool:
        """Skipped as the same person as an earlier line: decided by the file alone."""
        return self.outcome == self.Outcome.SKIPPED and self.matched_person_id is None


class BulkChange(models.Model):
    """Many leads changed at once: given new owners (a site lead's "reassign all", the queue's
    bulk assign) or closed or given a next action from the queue, kept with each lead's state
    before the change so that it can be undone for UNDO_PERIOD."""

    UNDO_PERIOD: ClassVar[timedelta] = timedelta(days=7)

    class Kind(models.TextChoices):
        REASSIGN_ALL = "reassign_all", "Reassign all open leads"
        ASSIGN = "assign", "Bulk assign"
        CLOSE = "close", "Bulk close"
        NEXT_ACTION = "next_action", "Bulk next action"

    OWNER_KINDS: ClassVar[tuple[str, ...]] = (Kind.REASSIGN_ALL, Kind.ASSIGN)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Whose leads they were (reassign all) and who got them (empty: spread by the fair rule).
    from_owner = models.ForeignKey(
        "tenancy.Membership", models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_owner = models.ForeignKey(
        "tenancy.Membership", models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lead_count = models.PositiveIntegerField(default=0)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    restored = models.PositiveIntegerField(default=0)
    # What a close or next-action change did, in words ("as Duplicate", "Callback due …").
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="bulk_change_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.lead_count} leads"

    @property
    def changes_owners(self) -> bool:
        return self.kind in self.OWNER_KINDS


class BulkChangeLead(models.Model):
    """One lead of a bulk change: its owner before and after, and the version the change left
    it at (a lead whose version moved on since was changed by someone and keeps its state).

    Written set-based, one row per lead: the memberships carry no foreign-key check of their
    own (the change's leads and owners were checked as they were written)."""

    pk = models.CompositePrimaryKey("change", "lead")
    change = models.ForeignKey(BulkChange, models.CASCADE, related_name="+", db_index=False)
    lead = models.ForeignKey(Lead, models.PROTECT, related_name="+", db_index=False)
    previous_owner = models.ForeignKey(
        "tenancy.Membership", models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    owner = models.ForeignKey(
        "tenancy.Membership", models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    version = models.PositiveIntegerField()
    # A close or next-action change: the lead's fields before it (leads.services.bulk_undo).
    previous = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.previous_owner_id} → {self.owner_id}"


class DuplicateDismissal(models.Model):
    """A suspected pair of people a human said are different."""

    organization = models.ForeignKey("tenancy.Organization", models.CASCADE, related_name="+")
    person_a = models.ForeignKey(Person, models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="dismissal_unique"),
            models.CheckConstraint(
                condition=Q(person_a__lt=models.F("person_b")), name="dismissal_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id} ≠ {self.person_b_id}"


class SuspectedDuplicate(models.Model):
    """Something a human must look at before two records are taken as one person, or apart.

    Two kinds, for the duplicates page:
    - a pair: `person` shares a phone or e-mail with `matched` but was not taken as them
      (leads.intake.identity); a human merges them or says they are different people;
    - a lead that may sit on the wrong person: `matched` is empty and `lead`, attached to
      `person`, came from a submission that names someone else (found in the leads attached
      before the identity rule, migration 0011; `submission` is what it said); a human
      confirms it is this person, or moves the lead to a new person of its own.
    """

    class Resolution(models.TextChoices):
        MERGED = "merged", "Merged"
        DISMISSED = "dismissed", "Different people"
        CONFIRMED = "confirmed", "The same person"
        SEPARATED = "separated", "Moved to a new person"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, models.CASCADE, related_name="suspicions")
    matched = models.ForeignKey(Person, models.CASCADE, null=True, blank=True, related_name="+")
    # Leads are never deleted; the lead that raised the suspicion stays named.
    lead = models.ForeignKey(Lead, models.PROTECT, null=True, blank=True, related_name="+")
    # For a lead on the wrong person: the submission that names someone else.
    submission = models.ForeignKey(
        "leads.Submission", models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "created_at"],
                condition=Q(resolved_at__isnull=True),
                name="suspicion_open",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["person", "matched"], name="suspicion_unique"),
            models.UniqueConstraint(
                fields=["lead"], condition=Q(matched__isnull=True), name="suspicion_lead_unique"
            ),
            models.CheckConstraint(
                condition=Q(matched__isnull=False) | Q(lead__isnull=False),
                name="suspicion_names_someone",
            ),
            models.CheckConstraint(
                condition=~Q(person=models.F("matched")), name="suspicion_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ~ {self.matched_id or f'lead {self.lead_id}'}"

    @property
    def is_pair(self) -> bool:
        return self.matched_id is not None


class PersonMerge(models.Model):
    """One merge of two people, with everything it moved and changed, so it can be undone for
    settings.MERGE_UNDO_DAYS. The ids are what moved from `merged` to `kept`; `changed` holds
    the kept person's values the merge replaced: {field: {"old": value, "new": value}}."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    kept = models.ForeignKey(Person, models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Person, models.PROTECT, related_name="+")
    lead_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Moved leads the merge closed as duplicates of an open lead of the kept person.
    closed_lead_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    opt_out_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Open suspicions about the merged person now about the kept one, and those the merge
    # resolved (about these two people, or the same as one the kept person already had).
    suspicion_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    resolved_suspicion_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # People merged earlier into the merged person, now pointing at the kept one.
    repointed_person_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    changed = models.JSONField(default=dict, blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "-merged_at"], name="merge_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(kept=models.F("merged")), name="merge_two_people"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.kept_id}"

    @property
    def undo_until(self) -> datetime.datetime:
        return self.merged_at + datetime.timedelta(days=settings.MERGE_UNDO_DAYS)

    def can_undo(self, now: datetime.datetime) -> bool:
        return self.undone_at is None and now <= self.undo_until


class DigestClaim(models.Model):
    """A member's morning digest of one local day, claimed before it is sent: the unique row
    is what makes it once. sent_at stays empty until the mail went; a claim left unsent (a
    crash between claim and send) is sent again, with the same Message-ID."""

    membership = models.ForeignKey("tenancy.Membership", models.CASCADE, related_name="+")
    day = models.DateField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "day"], name="digest_once_a_day")
        ]

    def __str__(self) -> str:
        return f"Digest of {self.membership_id} for {self.day}"
