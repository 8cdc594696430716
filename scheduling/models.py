"""Scheduling: what can be booked (visit types, resources), when (weekly hours, closures, public
holidays), and what is booked (appointments and the resource bookings they hold).

No resource is ever booked twice at once, and PostgreSQL says so: `Booking` carries an exclusion
constraint over core range types (a one-point int8range on the resource id with `=`, the
booking's tstzrange with `&&`), so no btree_gist is needed.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value

from leads.models import Lead
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Organization, Site

NAME_MAX = 120
REASON_MAX = 300


WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]


class ResourceKind(models.TextChoices):
    ROOM = "room", "Room"
    STAFF = "staff", "Staff"
    EQUIPMENT = "equipment", "Equipment"


class Resource(models.Model):
    """Something a visit needs and only one visit can have at a time: a room, a person, a
    device."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, models.PROTECT, related_name="resources")
    name = models.CharField(max_length=NAME_MAX)
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="resource_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


def default_reminder_hours() -> list[int]:
    return [48, 2]


class VisitType(models.Model):
    """A kind of visit of one StudySite (e.g. the screening visit) and what it takes."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    study_site = models.ForeignKey(StudySite, models.PROTECT, related_name="visit_types")
    name = models.CharField(max_length=NAME_MAX)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    preparation = models.TextField(blank=True)
    # Hours before the visit at which the patient is reminded (scheduling.reminders).
    reminder_hours = ArrayField(
        models.PositiveSmallIntegerField(), default=default_reminder_hours, blank=True
    )
    resources = models.ManyToManyField(Resource, related_name="visit_types")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["study_site", "name"], name="visit_type_name_unique"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=720),
                name="visit_type_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SiteCalendar(models.Model):
    """A site's scheduling settings: whose public holidays close it, and the slot step."""

    site = models.OneToOneField(Site, models.CASCADE, related_name="calendar")
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    holiday_country = models.CharField(max_length=2, blank=True, default="US")
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(default=30)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="site_calendar_slot_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar of {self.site}"


class WeeklyHours(models.Model):
    """One opening window of a site on one ISO weekday, in the site's local time. A site
    without any uses its business hours (Site.opens_at/closes_at on its business days)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)  # ISO: 1 Monday … 7 Sunday
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__lt=F("closes_at")), name="weekly_hours_open_before_close"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=1, weekday__lte=7), name="weekly_hours_weekday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens_at}-{self.closes_at}"


class Closure(models.Model):
    """Days a site takes no visits (besides public holidays): from first_day to last_day."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, models.CASCADE, related_name="closures")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=REASON_MAX)

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")), name="closure_days_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_day}-{self.last_day}: {self.reason}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


class Appointment(models.Model):
    """A lead's visit. Times are UTC; `sequence` is the ICS SEQUENCE, raised on every change so
    calendar clients update the one event (UID from `code`) instead of adding another."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, models.PROTECT, related_name="appointments")
    visit_type = models.ForeignKey(VisitType, models.PROTECT, related_name="appointments")
    site = models.ForeignKey(Site, models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancel_reason = models.CharField(max_length=REASON_MAX, blank=True)
    no_show_reason = models.CharField(max_length=REASON_MAX, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    reschedule_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["lead", "starts_at"], name="appointment_lead_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="appointment_starts_before_end"
            ),
            # A lead has at most one visit on the calendar at a time.
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status__in=["booked", "confirmed"]),
                name="appointment_one_active_per_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visit_type} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class TsTzRange(Func):
    function = "tstzrange"
    output_field = models.DateTimeField()  # only ever used inside the constraint


def _one_point(field: str) -> Func:
    return Func(F(field), F(field), Value("[]"), function="int8range")


class Booking(models.Model):
    """One resource held by one appointment for its time. Inactive once the appointment is
    cancelled, so the time is free again; the exclusion constraint covers active rows only."""

    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    appointment = models.ForeignKey(Appointment, models.CASCADE, related_name="bookings")
    resource = models.ForeignKey(Resource, models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["resource", "starts_at"], name="booking_resource_idx")]
        constraints = [
            ExclusionConstraint(
                name="booking_no_double_booking",
                index_type="gist",
                expressions=[
                    (_one_point("resource_id"), RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(active=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.starts_at}-{self.ends_at}"
