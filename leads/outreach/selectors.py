"""Outreach reads: a lead's messages, the inbox to review, an organization's templates."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from leads.models import OPEN_Q, Lead
from leads.outreach.models import (
    InboundMessage,
    MessageTemplate,
    MessageTemplateVersion,
    OutboundMessage,
)
from leads.selectors import visible_leads
from trialsnest.tenancy.models import Membership


def lead_messages(lead: Lead, limit: int = 10) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(lead=lead).order_by("-created_at", "-id")[:limit])


def lead_pending_reviews(lead: Lead) -> list[InboundMessage]:
    """The person's replies that read as a wish to stop, waiting for the owner."""
    return list(
        InboundMessage.objects.filter(
            person_id=lead.person_id, needs_review=True, reviewed_at__isnull=True
        ).order_by("received_at")[:5]
    )


def inbox(scope: Q, limit: int = 100) -> list[InboundMessage]:
    return list(
        InboundMessage.objects.filter(scope, needs_review=True, reviewed_at__isnull=True)
        .select_related("person", "lead")
        .order_by("received_at", "id")[:limit]
    )


def templates_of(organization_id: int, *, active_only: bool = False) -> QuerySet[MessageTemplate]:
    """An organization's templates, each with its versions newest first (`versions`)."""
    queryset = MessageTemplate.objects.filter(organization_id=organization_id)
    if active_only:
        queryset = queryset.filter(is_active=True)
    return queryset.prefetch_related(
        Prefetch("versions", queryset=MessageTemplateVersion.objects.order_by("-number"))
    ).order_by("name", "channel", "language")


def latest_version(template: MessageTemplate) -> MessageTemplateVersion | None:
    return template.versions.order_by("-number").first()


def preview_leads(membership: Membership, limit: int = 10) -> list[Lead]:
    """Leads to preview a template with: the top of the member's queue (its index serves it)."""
    return list(
        visible_leads(membership)
        .filter(OPEN_Q)
        .select_related("person")
        .order_by("attention_at", "id")[:limit]
    )


REPLIES_FOR = timedelta(days=7)


def replies_to_owner(membership: Membership, limit: int = 50) -> list[InboundMessage]:
    """The last week's texts from the people of the member's own leads, newest first: how an
    owner hears of a reply."""
    since = timezone.now() - REPLIES_FOR
    return list(
        InboundMessage.objects.filter(
            organization_id=membership.organization_id,
            received_at__gte=since,
            lead__owner=membership,
        )
        .select_related("person", "lead")
        .order_by("-received_at", "-id")[:limit]
    )
