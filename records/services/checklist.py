"""A StudySite's records checklist, edited by its site leads."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from records.models import RecordRequirement
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.studies.models import StudySite

REQUIREMENT_FIELDS = ("name", "required", "lookback_days", "instructions", "position")


def _snapshot(requirement: RecordRequirement) -> dict[str, Any]:
    return {name: getattr(requirement, name) for name in REQUIREMENT_FIELDS}


@transaction.atomic
def requirement_create(
    *,
    study_site: StudySite,
    name: str,
    required: bool,
    lookback_days: int | None,
    instructions: str,
    actor: Actor,
) -> RecordRequirement:
    """A new checklist item, last in the list. Leads already at the records step keep their
    items as they are: a new item applies from the next lead that reaches it."""
    last = RecordRequirement.objects.filter(study_site=study_site).aggregate(n=Max("position"))
    requirement = RecordRequirement(
        organization_id=study_site.organization_id,
        study_site=study_site,
        name=name.strip(),
        required=required,
        lookback_days=lookback_days,
        instructions=instructions.strip(),
        position=(last["n"] or 0) + 1,
    )
    requirement.full_clean()
    requirement.save()
    audit_record(
        action="record_requirement.created",
        actor=actor.user,
        organization_id=study_site.organization_id,
        obj=requirement,
        changes=changed_fields(old={}, new=_snapshot(requirement)),
        request=actor.request,
    )
    return requirement


@transaction.atomic
def requirement_update(
    *, requirement: RecordRequirement, actor: Actor, **values: Any
) -> RecordRequirement:
    requirement = RecordRequirement.objects.select_for_update().get(pk=requirement.pk)
    before = _snapshot(requirement)
    for name, value in values.items():
        if name not in REQUIREMENT_FIELDS:
            raise TypeError(f"Not a checklist field: {name}")
        setattr(requirement, name, value.strip() if isinstance(value, str) else value)
    requirement.full_clean()
    requirement.save()
    audit_record(
        action="record_requirement.updated",
        actor=actor.user,
        organization_id=requirement.organization_id,
        obj=requirement,
        changes=changed_fields(old=before, new=_snapshot(requirement)),
        request=actor.request,
    )
    return requirement


@transaction.atomic
def requirement_archive(*, requirement: RecordRequirement, actor: Actor) -> RecordRequirement:
    """Off the checklist: new leads no longer get it, and it no longer holds any lead back
    from being ready. Items already made keep their history."""
    requirement = RecordRequirement.objects.select_for_update().get(pk=requirement.pk)
    if requirement.archived_at is None:
        requirement.archived_at = timezone.now()
        requirement.save(update_fields=["archived_at"])
        audit_record(
            action="record_requirement.archived",
            actor=actor.user,
            organization_id=requirement.organization_id,
            obj=requirement,
            request=actor.request,
        )
    return requirement
