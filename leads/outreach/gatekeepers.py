"""Gatekeepers of outreach: the one way its views reach its objects. Another organization's
object, or one outside the member's restrictions, is a 404; so is every outreach page to a
sponsor viewer, who has no business with patients' messages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from leads.outreach.models import InboundMessage, MessageTemplate
from trialsnest.tenancy.gatekeepers import active_membership, by_code
from trialsnest.tenancy.selectors import visible_study_site_ids


def get_template_for_user(request: HttpRequest, code: Any) -> MessageTemplate:
    membership = active_membership(request)
    return by_code(MessageTemplate.objects.filter(organization_id=membership.organization_id), code)


def visible_inbound(request: HttpRequest) -> Q:
    """Inbound texts the member may see: of their organization, on leads of StudySites they
    see; texts from unknown numbers only for those who see every StudySite."""
    membership = active_membership(request)
    ids = visible_study_site_ids(membership)
    scope = Q(organization_id=membership.organization_id)
    if ids is None:
        return scope
    restricted = Q(lead__study_site_id__in=ids)
    if not membership.restricted_sites.exists() and not membership.restricted_study_sites.exists():
        restricted |= Q(lead__isnull=True)
    return scope & restricted


def get_inbound_for_user(request: HttpRequest, code: Any) -> InboundMessage:
    queryset = InboundMessage.objects.filter(visible_inbound(request))
    return by_code(queryset.select_related("person", "lead"), code)
