"""Tenancy: organizations, their sites, and who may work in them."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date, time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. America/Chicago).")


def default_business_days() -> list[int]:
    return [1, 2, 3, 4, 5]  # ISO weekdays, Monday to Friday


class Organization(models.Model):
    """The tenant: a research site or a site network."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Every member signs in with a second factor (trialsnest.accounts.two_factor). Sponsor
    # viewers see aggregates only: they are exempt unless the organizations sharing reports
    # with them ask for it too (or they enrolled themselves).
    two_factor_required = models.BooleanField(default=False)
    two_factor_for_sponsors = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A physical location of an organization."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    # Required, never defaulted: business hours and SLA targets are counted on this clock.
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    opens_at = models.TimeField(default=time(9, 0))
    closes_at = models.TimeField(default=time(17, 0))
    business_days = ArrayField(models.PositiveSmallIntegerField(), default=default_business_days)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True, default="United States")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="site_name_unique"),
            models.CheckConstraint(
                condition=models.Q(opens_at__lt=models.F("closes_at")),
                name="site_opens_before_it_closes",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": "Closing time must be after opening time."})
        if not self.business_days or any(d not in range(1, 8) for d in self.business_days):
            raise ValidationError({"business_days": "Pick at least one business day."})


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "Org admin"
    SITE_LEAD = "site_lead", "Site lead"
    COORDINATOR = "coordinator", "Coordinator"


class Membership(models.Model):
    """A user working in an organization, optionally restricted to some sites or StudySites."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="memberships")
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    is_active = models.BooleanField(default=True)
    # An invitation the user has not accepted yet (someone who already had an account): it gives
    # no access anywhere, so it is never active at the same time (checked by the database).
    pending = models.BooleanField(default=False)
    restricted_sites = models.ManyToManyField(Site, blank=True, related_name="+")
    restricted_study_sites = models.ManyToManyField(
        "studies.StudySite", blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Lead assignment: at most this many open leads (empty: no limit), and fairness ties.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Out of office, both days included: their reminders are held and their due leads shown
    # to the site lead (the Team page) meanwhile.
    away_from = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)
    # The member's own clock, for their morning digest (empty: their home site's).
    timezone = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
            models.CheckConstraint(
                condition=~models.Q(pending=True, is_active=True),
                name="membership_pending_is_not_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"

    def is_away(self, day: date) -> bool:
        return bool(self.away_from and self.away_until and self.away_from <= day <= self.away_until)

    @property
    def is_org_admin(self) -> bool:
        return self.role == Role.ORG_ADMIN

    @property
    def is_site_lead(self) -> bool:
        return self.role in (Role.SITE_LEAD, Role.ORG_ADMIN)


class SponsorMembership(models.Model):
    """A sponsor viewer. Which StudySites they may report on is granted with django-guardian."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="sponsor_membership"
    )
    sponsor = models.ForeignKey("studies.Sponsor", models.PROTECT, related_name="viewers")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} (sponsor viewer, {self.sponsor})"
