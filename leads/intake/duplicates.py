"""Suspected duplicate people, and their merge by a human.

Intake already treats the same phone or e-mail as the same person. What is left for review is
a similar name with the same date of birth. A merge keeps the chosen values on one record, moves
every lead (with its timeline) and opt-out to it, and marks the other as merged into it: nothing
is deleted, and the audit trail names every move.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from leads.models import (
    OPEN_STATUSES,
    ActivityKind,
    CloseReason,
    DuplicateDismissal,
    Lead,
    OptOut,
    Person,
    Status,
)
from leads.services.leads import lead_change_status
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor, audit_record

MERGE_FIELDS = Person.CONTACT_FIELDS
SIMILAR = 0.8


@dataclass
class Pair:
    a: Person
    b: Person
    score: float


def _name(person: Person) -> str:
    return f"{person.first_name} {person.last_name}".lower().strip()


def suspected_pairs(organization_id: int, limit: int = 100) -> list[Pair]:
    """People of the organization with the same date of birth and a similar name."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.id, b.id FROM leads_person a
               JOIN leads_person b ON b.organization_id = a.organization_id
                AND b.date_of_birth = a.date_of_birth AND b.id > a.id
               WHERE a.organization_id = %s AND a.date_of_birth IS NOT NULL
                 AND a.merged_into_id IS NULL AND b.merged_into_id IS NULL
                 AND NOT EXISTS (SELECT 1 FROM leads_duplicatedismissal d
                                 WHERE d.person_a_id = a.id AND d.person_b_id = b.id)
               ORDER BY a.id LIMIT 5000""",
            [organization_id],
        )
        candidates = cursor.fetchall()
    people = Person.objects.in_bulk({pk for pair in candidates for pk in pair})
    pairs = []
    for a_id, b_id in candidates:
        a, b = people[a_id], people[b_id]
        score = SequenceMatcher(None, _name(a), _name(b)).ratio()
        if score >= SIMILAR:
            pairs.append(Pair(a, b, round(score, 2)))
    return sorted(pairs, key=lambda p: -p.score)[:limit]


@transaction.atomic
def duplicate_dismiss(*, a: Person, b: Person, actor: Actor) -> None:
    first, second = sorted((a, b), key=lambda p: p.pk)
    assert actor.user is not None
    DuplicateDismissal.objects.get_or_create(
        organization_id=first.organization_id,
        person_a=first,
        person_b=second,
        defaults={"dismissed_by": actor.user},
    )
    audit_record(
        action="person.not_duplicate",
        actor=actor.user,
        organization_id=first.organization_id,
        obj=first,
        changes={"other_person": {"old": None, "new": str(second.code)}},
        request=actor.request,
    )


@transaction.atomic
def person_merge(*, keep: Person, other: Person, values: dict[str, Any], actor: Actor) -> Person:
    """Merge `other` into `keep` with the chosen field values."""
    keep, other = (
        Person.objects.select_for_update().get(pk=keep.pk),
        Person.objects.select_for_update().get(pk=other.pk),
    )
    if keep.pk == other.pk or keep.organization_id != other.organization_id:
        raise ValidationError("Pick two different people of the same organization.")
    if keep.merged_into_id or other.merged_into_id:
        raise ValidationError("One of these people was already merged.")
    for name in MERGE_FIELDS:
        if name in values:
            setattr(keep, name, values[name])
    for channel in ("phone", "sms", "email"):
        # Consent is only kept where both records have it; an opt-out on either wins.
        field = f"consent_{channel}"
        setattr(keep, field, getattr(keep, field) and getattr(other, field))
    keep.full_clean(exclude=["organization", "merged_into"])
    keep.save()
    other.merged_into = keep
    other.save(update_fields=["merged_into", "updated_at"])
    OptOut.objects.filter(person=other).update(person=keep)
    moved = list(Lead.objects.filter(person=other).select_related("study_site__site"))
    open_at = dict(
        Lead.objects.filter(person=keep, status__in=OPEN_STATUSES).values_list(
            "study_site_id", "code"
        )
    )
    for lead in moved:
        Lead.objects.filter(pk=lead.pk).update(person=keep)
        lead.person = keep
        activity_add(
            lead,
            ActivityKind.NOTE,
            actor,
            lead.last_movement_at,
            text="The person's record was merged with a duplicate.",
            data={"merged_from": str(other.code), "merged_into": str(keep.code)},
        )
        audit_record(
            action="lead.person_merged",
            actor=actor.user,
            organization_id=lead.organization_id,
            obj=lead,
            changes={"person": {"old": str(other.code), "new": str(keep.code)}},
            request=actor.request,
        )
        if lead.status in OPEN_STATUSES and lead.study_site_id in open_at:
            # Two open leads for one StudySite: the moved one closes as a duplicate.
            lead_change_status(
                lead=lead,
                status=Status.CLOSED,
                close_reason=CloseReason.DUPLICATE,
                reason=f"Duplicate of lead {open_at[lead.study_site_id]} after a merge.",
                actor=actor,
            )
    audit_record(
        action="person.merged",
        actor=actor.user,
        organization_id=keep.organization_id,
        obj=keep,
        changes={
            "merged_from": {"old": None, "new": str(other.code)},
            **{name: {"phi": True} for name in values if name in Person.PHI_FIELDS},
            "leads_moved": {"old": 0, "new": len(moved)},
        },
        request=actor.request,
    )
    return keep
