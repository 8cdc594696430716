"""What the duplicates page asks a human about, and their answer "these are different people".

One rule decides who may be the same person (leads.intake.identity); this module only finds
the cases for review:
- suspicions intake recorded (SuspectedDuplicate): someone who shares a phone or e-mail with a
  known person but whose name or date of birth says otherwise, and leads that may sit on the
  wrong person (migration 0011);
- pairs nobody recorded: the same date of birth and compatible names.
The merge itself, and its undo, are leads/intake/merges.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from leads.intake.identity import Who, names_compatible
from leads.models import DuplicateDismissal, Lead, Person, SuspectedDuplicate
from trialsnest.audit.services import Actor, audit_record

Resolution = SuspectedDuplicate.Resolution


@dataclass
class Pair:
    a: Person
    b: Person
    # Each person with their leads, for the page.
    entries: list[tuple[Person, list[Lead]]] = field(default_factory=list)


def _leads_of(people_ids: set[int]) -> dict[int, list[Lead]]:
    """Every lead of these people (one query), newest first."""
    leads: dict[int, list[Lead]] = defaultdict(list)
    for lead in (
        Lead.objects.filter(person_id__in=people_ids)
        .select_related("study_site__study", "study_site__site")
        .order_by("-received_at")
    ):
        leads[lead.person_id].append(lead)
    return leads


def suspected_pairs(organization_id: int, limit: int = 100) -> list[Pair]:
    """People of the organization with the same date of birth and compatible names, newest
    first, unless a human already said they are different or a suspicion names them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.id, b.id FROM leads_person a
               JOIN leads_person b ON b.organization_id = a.organization_id
                AND b.date_of_birth = a.date_of_birth AND b.id > a.id
               WHERE a.organization_id = %s AND a.date_of_birth IS NOT NULL
                 AND a.merged_into_id IS NULL AND b.merged_into_id IS NULL
                 AND NOT EXISTS (SELECT 1 FROM leads_duplicatedismissal d
                                 WHERE d.person_a_id = a.id AND d.person_b_id = b.id)
                 AND NOT EXISTS (SELECT 1 FROM leads_suspectedduplicate s
                                 WHERE s.resolved_at IS NULL
                                   AND ((s.person_id = a.id AND s.matched_id = b.id)
                                     OR (s.person_id = b.id AND s.matched_id = a.id)))
               ORDER BY b.id DESC, a.id DESC LIMIT 5000""",
            [organization_id],
        )
        candidates = cursor.fetchall()
    people = Person.objects.in_bulk({pk for pair in candidates for pk in pair})
    pairs = []
    for a_id, b_id in candidates:
        a, b = people[a_id], people[b_id]
        if names_compatible(Who.of(a), Who.of(b)):
            pairs.append(Pair(a, b))
            if len(pairs) == limit:
                break
    leads = _leads_of({p.pk for pair in pairs for p in (pair.a, pair.b)})
    for pair in pairs:
        pair.entries = [(p, leads[p.pk]) for p in (pair.a, pair.b)]
    return pairs


@dataclass
class Review:
    """An open suspicion as the duplicates page shows it."""

    suspicion: SuspectedDuplicate
    # The person (and the one they were matched with), each with their leads.
    entries: list[tuple[Person, list[Lead]]]
    # For a lead that may be on the wrong person: what its submission said.
    submitted: dict[str, Any] | None = None

    @property
    def can_separate(self) -> bool:
        return separable(self.suspicion)


def separable(suspicion: SuspectedDuplicate) -> bool:
    """Whether the suspicion's lead can move to a new person made from its submission: the lead
    itself came from that submission (intake gives a lead its submission's received time), not
    repeat interest logged on the person's own lead."""
    lead, submission = suspicion.lead, suspicion.submission
    return bool(
        suspicion.matched_id is None
        and lead is not None
        and submission is not None
        and lead.person_id == suspicion.person_id
        and submission.lead_id == lead.pk
        and submission.received_at == lead.received_at
    )


SUBMITTED_FIELDS = ("first_name", "last_name", "phone", "email", "date_of_birth")


def open_suspicions(organization_id: int, limit: int = 100) -> list[Review]:
    """The organization's unresolved suspicions, newest first, each with both people's leads."""
    suspicions = list(
        SuspectedDuplicate.objects.filter(organization_id=organization_id, resolved_at__isnull=True)
        .select_related("person", "matched", "lead__study_site__study", "lead__study_site__site")
        .select_related("submission")
        .order_by("-created_at", "-id")[:limit]
    )
    leads = _leads_of({pk for s in suspicions for pk in (s.person_id, s.matched_id) if pk})
    reviews = []
    for s in suspicions:
        people = [s.person] if s.matched is None else [s.person, s.matched]
        submitted = None
        if s.submission is not None:
            payload = s.submission.payload
            submitted = {name: payload.get(name) or "" for name in SUBMITTED_FIELDS}
        reviews.append(Review(s, [(p, leads[p.pk]) for p in people], submitted))
    return reviews


@transaction.atomic
def duplicate_dismiss(*, a: Person, b: Person, actor: Actor) -> None:
    """A human says these two are different people: neither list suggests them again, and any
    open suspicion about the two is resolved."""
    first, second = sorted((a, b), key=lambda p: p.pk)
    assert actor.user is not None
    DuplicateDismissal.objects.get_or_create(
        organization_id=first.organization_id,
        person_a=first,
        person_b=second,
        defaults={"dismissed_by": actor.user},
    )
    between = Q(person=first, matched=second) | Q(person=second, matched=first)
    resolved = list(
        SuspectedDuplicate.objects.filter(between, resolved_at__isnull=True).values_list(
            "code", flat=True
        )
    )
    SuspectedDuplicate.objects.filter(between, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor.user, resolution=Resolution.DISMISSED
    )
    changes: dict[str, Any] = {"other_person": {"old": None, "new": str(second.code)}}
    if resolved:
        changes["suspicions_resolved"] = {"old": None, "new": sorted(map(str, resolved))}
    audit_record(
        action="person.not_duplicate",
        actor=actor.user,
        organization_id=first.organization_id,
        obj=first,
        changes=changes,
        request=actor.request,
    )


@transaction.atomic
def suspicion_dismiss(*, suspicion: SuspectedDuplicate, actor: Actor) -> SuspectedDuplicate:
    """The reviewer's "no need to merge or move": for a pair, they are different people; for a
    lead on a person, the interest is this person's after all."""
    suspicion = SuspectedDuplicate.objects.select_for_update().get(pk=suspicion.pk)
    if suspicion.resolved_at is not None:
        raise ValidationError("Someone has already reviewed this.")
    if suspicion.matched_id is not None:
        duplicate_dismiss(
            a=Person.objects.get(pk=suspicion.person_id),
            b=Person.objects.get(pk=suspicion.matched_id),
            actor=actor,
        )
        suspicion.refresh_from_db()
        return suspicion
    suspicion.resolved_at, suspicion.resolved_by = timezone.now(), actor.user
    suspicion.resolution = Resolution.CONFIRMED
    suspicion.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        action="person.suspicion_confirmed",
        actor=actor.user,
        organization_id=suspicion.organization_id,
        obj=suspicion.person,
        changes={
            "suspicion": {"old": None, "new": str(suspicion.code)},
            "lead": {"old": None, "new": str(suspicion.lead.code) if suspicion.lead else None},
        },
        request=actor.request,
    )
    return suspicion
