"""Leads' part of a StudySite's launch checklist (trialsnest/studies/readiness.py): who owns its
new leads, its public page, its SLA targets and cadence, and approved recruitment materials."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from leads.models import Policy, RecruitmentMaterial
from trialsnest.studies.models import StudySite
from trialsnest.studies.readiness import Item, counted, readiness_check
from trialsnest.tenancy.models import Role
from trialsnest.tenancy.selectors import members_who_see


@readiness_check("owners", order=10)
def owners(study_site: StudySite) -> Item:
    coordinators = members_who_see(study_site).filter(role=Role.COORDINATOR).count()
    return Item(
        label="Coordinators to own its new leads",
        done=coordinators > 0,
        detail=f"{counted(coordinators, 'coordinator')} {'takes' if coordinators == 1 else 'take'} "
        "its new leads in turn"
        if coordinators
        else "No active coordinator can see it: new leads would fall to a site lead",
        fix_url=reverse("settings_users"),
        fix_label="Invite or give access to a coordinator",
    )


@readiness_check("intake", order=20)
def intake(study_site: StudySite) -> Item:
    summary = bool(study_site.lay_summary.strip())
    return Item(
        label="Its public page and interest form",
        done=summary,
        detail="A lay summary tells visitors what the study is"
        if summary
        else "No lay summary: the study page would show the registry's technical text only",
        fix_url=reverse("settings_study_site_edit", kwargs={"code": study_site.code})
        + "#id_lay_summary",
        fix_label="Write the lay summary",
    )


@readiness_check("policy", order=30)
def policy(study_site: StudySite) -> Item:
    chosen = Policy.objects.filter(study_site=study_site).exists()
    return Item(
        label="SLA targets and contact cadence",
        done=chosen,
        detail="Set for this study"
        if chosen
        else "Nobody has set them: the organization's defaults would apply unseen",
        fix_url=reverse("policy_edit", kwargs={"code": study_site.code}),
        fix_label="Set the targets and cadence",
    )


@readiness_check("materials", order=60)
def materials(study_site: StudySite) -> Item:
    today = timezone.localdate()
    approved = (
        RecruitmentMaterial.objects.filter(organization_id=study_site.organization_id)
        .filter(Q(study_site=study_site) | Q(study_site__isnull=True))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .count()
    )
    return Item(
        label="Approved recruitment materials",
        done=approved > 0,
        detail=f"{counted(approved, 'approved material')} in date"
        if approved
        else "No IRB-approved material in date for this study",
        fix_url=reverse("materials"),
        fix_label="Add a material",
    )
