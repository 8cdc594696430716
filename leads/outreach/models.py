"""Outreach: message templates, every message sent or received, and where inbound SMS lands.

These are leads models (app label `leads`, imported by leads.models); they name the leads
models by string, so this module imports nothing of leads and no cycle can form.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class MessageChannel(models.TextChoices):
    """The channels a message is sent on (a phone call is not a message)."""

    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Español"


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class OutreachSettings(models.Model):
    """An organization's messaging: the number its texts come from (which routes replies to it)
    and the secret in its webhook URL, and the contact a HELP reply gives."""

    organization = models.OneToOneField(
        "tenancy.Organization", models.CASCADE, related_name="outreach", primary_key=True
    )
    # E.164. Unique across organizations: a reply to this number belongs to this organization.
    sms_number = models.CharField(max_length=20, blank=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    help_contact = models.CharField(
        max_length=160, blank=True, help_text="What a HELP reply says, e.g. call (312) 555-0100."
    )

    class Meta:
        verbose_name_plural = "outreach settings"
        constraints = [
            models.UniqueConstraint(
                fields=["sms_number"], condition=~Q(sms_number=""), name="outreach_sms_number"
            )
        ]

    def __str__(self) -> str:
        return f"Outreach of {self.organization_id}"


class MessageTemplate(models.Model):
    """A named message of an organization for one channel and language. Its text lives in
    versions: an edit adds one, and every message keeps the version it was made from."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.EN)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name", "channel", "language"],
                name="message_template_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()}, {self.language})"


class MessageTemplateVersion(models.Model):
    template = models.ForeignKey(MessageTemplate, models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=200, blank=True)  # e-mail only
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"


class Purpose(models.TextChoices):
    OUTREACH = "outreach", "Outreach"
    # Answers to the person's own keyword: sent whatever their consent (carriers require them).
    OPT_OUT_CONFIRMATION = "opt_out_confirmation", "Opt-out confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation", "Opt-in confirmation"
    HELP = "help", "Help reply"
    # A booked, moved or cancelled visit, with its calendar file: consent and quiet hours apply.
    APPOINTMENT = "appointment", "Visit notice"


# Sent whatever the person's consent, at any hour: the carrier requires an answer to a keyword.
KEYWORD_ANSWERS = frozenset(
    {Purpose.OPT_OUT_CONFIRMATION, Purpose.OPT_IN_CONFIRMATION, Purpose.HELP}
)


class OutboundMessage(models.Model):
    """One message to one person: queued by a member (or automation), checked and sent by a
    task. The idempotency key makes a retry of the same send the same message."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        # Claimed by a task that is talking to the provider: never sent a second time.
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked"
        HELD = "held", "Held for quiet hours"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    lead = models.ForeignKey(
        "leads.Lead", models.PROTECT, null=True, blank=True, related_name="outbound_messages"
    )
    person = models.ForeignKey("leads.Person", models.PROTECT, related_name="outbound_messages")
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    purpose = models.CharField(max_length=30, choices=Purpose.choices, default=Purpose.OUTREACH)
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=300, blank=True)  # why blocked, held or failed
    hold_until = models.DateTimeField(null=True, blank=True)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # An iCalendar file (RFC 5545) sent with an e-mail: the visit, its site and address only.
    calendar = models.TextField(blank=True)
    template_version = models.ForeignKey(
        MessageTemplateVersion, models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider_id = models.CharField(max_length=100, blank=True)
    # When a task claimed it (status sending) before calling the provider: a message still
    # sending long after was interrupted by a crash, and is retried with the same key.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="outbound_idempotency_key"
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_until__isnull=False),
                name="held_message_has_due_time",
            ),
        ]
        indexes = [
            # The beat scans: held messages that may go now, queued ones whose task was lost...
            models.Index(fields=["hold_until"], condition=Q(status="held"), name="outbound_held"),
            models.Index(
                fields=["created_at"], condition=Q(status="queued"), name="outbound_queued"
            ),
            # ...and claimed ones whose worker died before the outcome.
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="outbound_sending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.code} ({self.status})"


class InboundMessage(models.Model):
    """A text received on an organization's number (kept whoever sent it: an unknown number
    waits for review), or an e-mail answering one of our messages, with what it was read as."""

    class Intent(models.TextChoices):
        OPT_OUT = "opt_out", "Opt-out keyword"
        OPT_IN = "opt_in", "Opt-in keyword"
        HELP = "help", "Help keyword"
        MAYBE_STOP = "maybe_stop", "Reads as a wish to stop"
        REPLY = "reply", "Reply"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenancy.Organization", models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "leads.Person", models.PROTECT, null=True, blank=True, related_name="inbound_messages"
    )
    lead = models.ForeignKey("leads.Lead", models.PROTECT, null=True, blank=True, related_name="+")
    channel = models.CharField(
        max_length=10, choices=MessageChannel.choices, default=MessageChannel.SMS
    )
    from_number = models.CharField(max_length=254)  # a phone number, or an e-mail's sender
    to_number = models.CharField(max_length=40, blank=True)
    body = models.TextField(blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    intent = models.CharField(max_length=20, choices=Intent.choices)
    received_at = models.DateTimeField()
    # Someone must look: an unknown number, or a reply that reads as a wish to stop (SMS to the
    # person is paused until the owner confirms the opt-out or resumes).
    needs_review = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When a text was acted on (matched with its people, an opt-out recorded...): the webhook
    # keeps it and answers, a worker acts on the texts waiting, in batches.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # A provider's retry of the same webhook is the same message.
            models.UniqueConstraint(
                fields=["organization", "provider_id"],
                condition=~Q(provider_id=""),
                name="inbound_provider_id",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "received_at"],
                condition=Q(needs_review=True, reviewed_at__isnull=True),
                name="inbound_to_review",
            ),
            models.Index(fields=["organization", "from_number"], name="inbound_from"),
            # The owner's latest replies (the Replies page).
            models.Index(fields=["organization", "-received_at"], name="inbound_recent"),
            # The texts waiting to be acted on.
            models.Index(
                fields=["organization", "id"],
                condition=Q(processed_at__isnull=True),
                name="inbound_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} from {self.from_number} ({self.intent})"
