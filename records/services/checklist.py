"""A StudySite's records checklist, edited by its site leads."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from leads.models import Activity, ActivityKind, Lead, Status
from records.models import RecordItem, RecordRequirement
from trialsnest.audit.services import Actor, audit_record, audit_record_many, changed_fields
from trialsnest.studies.models import StudySite

REQUIREMENT_FIELDS = ("name", "required", "lookback_days", "instructions", "position")
BATCH = 1_000


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
    add_to_waiting: bool = False,
) -> RecordRequirement:
    """A new checklist item, last in the list. It applies from the next lead that reaches the
    records step; with `add_to_waiting`, the leads waiting on records now get it too."""
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
    if add_to_waiting:
        requirement_add_to_waiting(requirement=requirement, actor=actor)
    return requirement


def waiting_leads(study_site: StudySite) -> QuerySet[Lead]:
    """The StudySite's leads at the records step now."""
    return Lead.objects.filter(study_site=study_site, status=Status.RECORDS_PENDING)


def requirement_add_to_waiting(*, requirement: RecordRequirement, actor: Actor) -> int:
    """Give the item to every lead waiting on records that lacks it, a batch of leads per
    statement (items, timeline lines, audit rows); returns how many leads got it. Each lead
    stays at the records step: one more item to collect cannot make it ready."""
    have = RecordItem.objects.filter(requirement=requirement).values("lead_id")
    leads = waiting_leads(requirement.study_site).exclude(pk__in=have).order_by("pk")
    detail = f"1 more to collect: {requirement.name}"
    total, now = 0, timezone.now()
    # Each batch's items take its leads out of `leads`: the next slice is the next batch.
    rows = leads.values_list("pk", "code", "version")
    while batch := list(rows[:BATCH]):
        RecordItem.objects.bulk_create(
            RecordItem(organization_id=requirement.organization_id, lead_id=pk,
                       requirement=requirement)
            for pk, _, _ in batch
        )  # fmt: skip
        Activity.objects.bulk_create(
            Activity(organization_id=requirement.organization_id, lead_id=pk,
                     kind=ActivityKind.RECORDS, actor=actor.user, at=now,
                     data={"detail": detail, "version": version})
            for pk, _, version in batch
        )  # fmt: skip
        audit_record_many(
            action="record_items.created",
            actor_id=actor.user.pk if actor.user else None,
            organization_id=requirement.organization_id,
            object_type="lead",
            object_ids=[str(code) for _, code, _ in batch],
            changes={"items": {"new": [str(requirement.code)]}},
        )
        total += len(batch)
    return total


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
