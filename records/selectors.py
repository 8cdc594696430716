"""Reads of the records app. Each costs a constant number of queries, whatever the number of
leads or items."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from leads.models import Lead
from records.models import ItemState, Provider, RecordItem, RecordRequirement
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership


def checklist(study_site: StudySite) -> QuerySet[RecordRequirement]:
    """The StudySite's checklist as new leads get it, in order."""
    return RecordRequirement.objects.filter(study_site=study_site, archived_at__isnull=True)


def providers(membership: Membership) -> QuerySet[Provider]:
    return Provider.objects.filter(organization_id=membership.organization_id)


def lead_items(lead: Lead) -> list[RecordItem]:
    """The lead's items, in checklist order, with what a panel row prints: one query."""
    return list(
        RecordItem.objects.filter(lead=lead)
        .select_related("requirement", "provider", "reviewed_by")
        .order_by("requirement__position", "requirement_id")
    )


def outstanding_requests(lead_ids: Iterable[int]) -> dict[int, tuple[Any, str]]:
    """For each lead, its outstanding request that falls due first: (due date, practice).
    One query over the partial index of outstanding requests."""
    rows = (
        RecordItem.objects.filter(lead_id__in=list(lead_ids), state=ItemState.REQUESTED)
        .order_by("lead_id", "due_on", "id")
        .distinct("lead_id")
        .values_list("lead_id", "due_on", "provider__practice")
    )
    return {lead_id: (due_on, practice) for lead_id, due_on, practice in rows}
