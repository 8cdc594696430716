"""Gatekeepers of the records app: the one way its views reach its tenant-owned objects.

Another organization's object, or one at a StudySite outside the member's restrictions, is a
404. A sponsor viewer (no membership) gets a 404 from every records URL: records are PHI, and
a sponsor learns nothing from them, not even that a page is there.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from leads.models import Lead
from records.models import Provider, RecordItem, RecordRequirement
from trialsnest.tenancy.gatekeepers import active_membership, by_code
from trialsnest.tenancy.selectors import visible_study_site_ids


def get_requirement_for_user(request: HttpRequest, code: Any) -> RecordRequirement:
    """A checklist item of a StudySite the active member may see."""
    membership = active_membership(request)
    queryset = RecordRequirement.objects.filter(organization_id=membership.organization_id)
    ids = visible_study_site_ids(membership)
    if ids is not None:
        queryset = queryset.filter(study_site_id__in=ids)
    return by_code(queryset.select_related("study_site__site", "study_site__study"), code)


def get_provider_for_user(request: HttpRequest, code: Any) -> Provider:
    """A provider of the active organization's directory."""
    membership = active_membership(request)
    return by_code(Provider.objects.filter(organization_id=membership.organization_id), code)


def get_record_item_for_lead(lead: Lead, code: Any) -> RecordItem:
    """An item of a lead that a gatekeeper already let the member see."""
    queryset = RecordItem.objects.filter(lead=lead, organization_id=lead.organization_id)
    return by_code(queryset.select_related("requirement", "provider"), code)
