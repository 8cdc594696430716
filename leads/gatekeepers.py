"""Gatekeepers of the leads app: the one way its views reach tenant-owned objects.

Each looks the object up inside what the active member may see: another organization's object,
or one outside the member's restrictions, is a 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from leads.models import (
    ApiKey,
    BulkChange,
    CsvImport,
    Lead,
    Person,
    PersonMerge,
    RecruitmentMaterial,
    SavedView,
    SuspectedDuplicate,
)
from leads.selectors import visible_leads
from trialsnest.tenancy.gatekeepers import active_membership, by_code
from trialsnest.tenancy.selectors import visible_study_site_ids


def get_lead_for_user(request: HttpRequest, code: Any) -> Lead:
    """A lead the active member may see (their organization, within their restrictions)."""
    queryset = visible_leads(active_membership(request), few=True).select_related(
        "person", "study_site__site", "study_site__study", "owner__user"
    )
    return by_code(queryset, code)


def get_saved_view_for_user(request: HttpRequest, code: Any) -> SavedView:
    """A saved queue view the active member owns (shared views are not theirs to delete)."""
    return by_code(SavedView.objects.filter(owner=active_membership(request)), code)


def get_csv_import_for_user(request: HttpRequest, code: Any) -> CsvImport:
    """A CSV import of the active organization, at a StudySite the member may see."""
    membership = active_membership(request)
    queryset = CsvImport.objects.filter(organization_id=membership.organization_id)
    ids = visible_study_site_ids(membership)
    if ids is not None:
        queryset = queryset.filter(study_site_id__in=ids)
    return by_code(queryset.select_related("study_site__site", "study_site__study"), code)


def get_person_for_user(request: HttpRequest, code: Any) -> Person:
    """A person of the active organization (for site leads and org admins: people span sites)."""
    membership = active_membership(request)
    return by_code(Person.objects.filter(organization_id=membership.organization_id), code)


def get_suspicion_for_user(request: HttpRequest, code: Any) -> SuspectedDuplicate:
    """A suspected duplicate (or misattached lead) of the active organization."""
    membership = active_membership(request)
    queryset = SuspectedDuplicate.objects.filter(organization_id=membership.organization_id)
    return by_code(queryset.select_related("person", "matched", "lead", "submission"), code)


def get_person_merge_for_user(request: HttpRequest, code: Any) -> PersonMerge:
    """A merge of two people of the active organization."""
    membership = active_membership(request)
    queryset = PersonMerge.objects.filter(organization_id=membership.organization_id)
    return by_code(queryset.select_related("kept", "merged"), code)


def get_material_for_user(request: HttpRequest, code: Any) -> RecruitmentMaterial:
    """A recruitment material of the active organization."""
    membership = active_membership(request)
    queryset = RecruitmentMaterial.objects.filter(organization_id=membership.organization_id)
    return by_code(queryset, code)


def get_api_key_for_user(request: HttpRequest, code: Any) -> ApiKey:
    """An intake API key of the active organization."""
    membership = active_membership(request)
    return by_code(ApiKey.objects.filter(organization_id=membership.organization_id), code)


def get_bulk_change_for_user(request: HttpRequest, code: Any) -> BulkChange:
    """A bulk change of owners made in the active organization."""
    membership = active_membership(request)
    return by_code(BulkChange.objects.filter(organization_id=membership.organization_id), code)


def get_own_bulk_change_for_user(request: HttpRequest, code: Any) -> BulkChange:
    """A bulk change the active member made (site leads and org admins: any of the
    organization's), for its undo from the queue."""
    membership = active_membership(request)
    queryset = BulkChange.objects.filter(organization_id=membership.organization_id)
    if not membership.is_site_lead:
        queryset = queryset.filter(actor_id=membership.user_id)
    return by_code(queryset.select_related("actor", "undone_by"), code)
