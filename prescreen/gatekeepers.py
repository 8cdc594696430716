"""Gatekeepers of the prescreen app: the one way its views reach tenant-owned objects.

Each looks the object up inside what the active member may see: another organization's object,
or one at a StudySite outside the member's restrictions, is a 404. Signed-in people who are not
members of any organization (sponsor viewers) get a 404 on every prescreen URL too: prescreen
answers are single-patient data, and a sponsor must not learn that a page exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from prescreen.models import PrescreenResponse, Question, QuestionnaireVersion, Rule
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.gatekeepers import (
    View,
    active_membership,
    by_code,
    member_required,
    not_for_sponsors,
)
from trialsnest.tenancy.models import Role
from trialsnest.tenancy.selectors import visible_study_sites

SITE_LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)


def prescreen_member_required[R: HttpRequest, **P](
    *roles: Role,
) -> Callable[[View[R, P]], View[R, P]]:
    """member_required, except that a signed-in non-member (a sponsor viewer) gets a 404."""

    def decorator(view: View[R, P]) -> View[R, P]:
        return not_for_sponsors(member_required(*roles)(view))

    return decorator


def _visible_ids(request: HttpRequest) -> QuerySet[StudySite, Any]:
    """The ids of the StudySites the member sees, as a subquery (no query of its own)."""
    return visible_study_sites(active_membership(request)).values("id")


def get_version_for_user(request: HttpRequest, code: Any) -> QuestionnaireVersion:
    queryset = QuestionnaireVersion.objects.filter(
        organization_id=active_membership(request).organization_id,
        questionnaire__study_site_id__in=_visible_ids(request),
    ).select_related("questionnaire__study_site__site", "questionnaire__study_site__study")
    return by_code(queryset, code)


def get_question_for_user(request: HttpRequest, code: Any) -> Question:
    queryset = Question.objects.filter(
        version__organization_id=active_membership(request).organization_id,
        version__questionnaire__study_site_id__in=_visible_ids(request),
    ).select_related(
        "version__questionnaire__study_site__site", "version__questionnaire__study_site__study"
    )
    return by_code(queryset, code)


def get_rule_for_user(request: HttpRequest, code: Any) -> Rule:
    queryset = Rule.objects.filter(
        question__version__organization_id=active_membership(request).organization_id,
        question__version__questionnaire__study_site_id__in=_visible_ids(request),
    ).select_related("question__version__questionnaire__study_site")
    return by_code(queryset, code)


def get_response_for_user(request: HttpRequest, code: Any) -> PrescreenResponse:
    """A prescreen of a lead the member may see."""
    queryset = PrescreenResponse.objects.filter(
        organization_id=active_membership(request).organization_id,
        lead__study_site_id__in=_visible_ids(request),
    ).select_related("version", "lead__person", "lead__study_site__site", "lead__study_site__study")
    return by_code(queryset, code)
