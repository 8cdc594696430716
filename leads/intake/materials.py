"""IRB-approved recruitment materials: recording their versions, and reading a lead's code."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from leads.models import RecruitmentMaterial
from trialsnest.audit.services import Actor, audit_record, changed_fields

MATERIAL_FIELDS = ("material_code", "title", "study_site_id", "approved_on", "expires_on")


def _snapshot(material: RecruitmentMaterial) -> dict[str, Any]:
    return {name: getattr(material, name) for name in MATERIAL_FIELDS}


@transaction.atomic
def material_save(*, material: RecruitmentMaterial, actor: Actor) -> RecruitmentMaterial:
    """Record a new material version or a change to one (validated by its form)."""
    created = material.pk is None
    before = {} if created else _snapshot(RecruitmentMaterial.objects.get(pk=material.pk))
    material.save()
    audit_record(
        action="material.created" if created else "material.updated",
        actor=actor.user,
        organization_id=material.organization_id,
        obj=material,
        changes=changed_fields(old=before, new=_snapshot(material)),
        request=actor.request,
    )
    return material


def material_for_code(
    organization_id: int, code: str, today: date
) -> tuple[RecruitmentMaterial | None, str]:
    """The material a lead's code names, and a flag for the site lead when something is off
    (an unknown code, an expired approval): such leads are accepted all the same."""
    if not code:
        return None, ""
    material = RecruitmentMaterial.objects.filter(
        organization_id=organization_id, material_code__iexact=code
    ).first()
    if material is None:
        return None, f"Unknown recruitment material code “{code}”."
    if material.expires_on is not None and material.expires_on < today:
        return material, f"Recruitment material {material.material_code} expired on " + (
            f"{material.expires_on:%Y-%m-%d}."
        )
    return material, ""
