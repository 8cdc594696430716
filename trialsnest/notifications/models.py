"""In-app notifications: the bell. Ids and short reasons only (never a name, contact or free
text), so any app's job can write one, and a job run twice writes nothing more: each
notification has a key unique per recipient (say "sla:<lead code>:<target time>")."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class Kind(models.TextChoices):
    DUE = "due", "Due"
    REPLY = "reply", "Reply"
    REASSIGNED = "reassigned", "Reassigned to you"
    SLA_MISSED = "sla_missed", "SLA target missed"
    ESCALATION = "escalation", "Escalation"
    CLOSED = "closed", "Closed by the cadence"
    STALE = "stale", "Stale"
    ACTION_ITEM = "action_item", "Action from a review"


class Notification(models.Model):
    organization = models.ForeignKey(
        "tenancy.Organization", models.CASCADE, related_name="+", db_index=False
    )
    recipient = models.ForeignKey(
        "tenancy.Membership", models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200)
    # What it is about: a lead's code (the link), and why, in words without patient data.
    lead_code = models.UUIDField(null=True, blank=True)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(db_default=Now())
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once"),
        ]
        indexes = [
            # The bell: a count of a member's unread ones, read from the index alone.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="unread"),
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}"
