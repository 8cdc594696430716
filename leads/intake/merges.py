"""Merging two records of one person, after a human confirmed it, and undoing that merge.

A merge keeps the chosen values on one record, moves every lead (with its timeline), opt-out
and open suspicion of the other to it, and marks the other as merged into it: nothing is
deleted. `merge_plan` says what a merge will do, for the confirmation page and for the merge
itself (one account of it, so what was confirmed is what happens). A PersonMerge row keeps
every id that moved and every value that was replaced, so for settings.MERGE_UNDO_DAYS the merge
can be undone: everything moves back, the kept person gets their old values again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from leads.models import (
    OPEN_STATUSES,
    ActivityKind,
    Channel,
    CloseReason,
    Lead,
    OptOut,
    Person,
    PersonMerge,
    Status,
    SuspectedDuplicate,
)
from leads.services.leads import lead_change_status
from leads.services.people import person_record_opt_out
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor, audit_record

MERGE_FIELDS = Person.CONTACT_FIELDS
CONSENT_FIELDS = tuple(f"consent_{channel}" for channel in Channel.values)
CHANGED_SINCE = "One of these records changed since the summary was shown. Check it again."


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@dataclass
class MergePlan:
    """What merging `other` into `keep` will do."""

    keep: Person
    other: Person
    # The kept person's values that change: field -> (now, after the merge).
    changes: dict[str, tuple[Any, Any]]
    leads: list[Lead]
    # Moved open leads that close as duplicates: their id -> the kept person's open lead.
    closing: dict[int, Lead]
    opt_outs: list[OptOut]

    @property
    def fingerprint(self) -> str:
        """Changes when anything the confirmation page showed would come out differently."""
        seen = [
            self.keep.updated_at,
            self.other.updated_at,
            sorted((name, _json(a), _json(b)) for name, (a, b) in self.changes.items()),
            [(lead.pk, lead.status) for lead in self.leads],
            sorted(self.closing),
            [o.pk for o in self.opt_outs],
        ]
        return hashlib.sha256(json.dumps(seen, default=str).encode()).hexdigest()[:32]


def merge_plan(*, keep: Person, other: Person, values: dict[str, Any]) -> MergePlan:
    """`values` are the chosen values of MERGE_FIELDS (a field left out keeps the kept
    person's value). Consent stays only where both records have it: an opt-out on either wins."""
    if keep.pk == other.pk or keep.organization_id != other.organization_id:
        raise ValidationError("Pick two different people of the same organization.")
    if keep.merged_into_id or other.merged_into_id:
        raise ValidationError("One of these people was already merged.")
    changes = {
        name: (getattr(keep, name), values[name])
        for name in MERGE_FIELDS
        if name in values and values[name] != getattr(keep, name)
    }
    for name in CONSENT_FIELDS:
        if getattr(keep, name) and not getattr(other, name):
            changes[name] = (True, False)
    leads = list(
        Lead.objects.filter(person=other)
        .select_related("study_site__study", "study_site__site")
        .order_by("received_at", "id")
    )
    open_at = {
        lead.study_site_id: lead
        for lead in Lead.objects.filter(person=keep, status__in=OPEN_STATUSES)
    }
    closing = {
        lead.pk: open_at[lead.study_site_id]
        for lead in leads
        if lead.status in OPEN_STATUSES and lead.study_site_id in open_at
    }
    opt_outs = list(OptOut.objects.filter(person=other).order_by("at", "id"))
    return MergePlan(keep, other, changes, leads, closing, opt_outs)


def _locked(*people: Person) -> list[Person]:
    found = Person.objects.select_for_update().in_bulk([p.pk for p in people])
    return [found[p.pk] for p in people]


@transaction.atomic
def person_merge(
    *, keep: Person, other: Person, values: dict[str, Any], actor: Actor, seen: str = ""
) -> PersonMerge:
    """Merge `other` into `keep`. With `seen` (the fingerprint of the plan the user confirmed),
    nothing happens if the plan has changed since."""
    assert actor.user is not None
    keep, other = _locked(keep, other)
    plan = merge_plan(keep=keep, other=other, values=values)
    if seen and seen != plan.fingerprint:
        raise ValidationError(CHANGED_SINCE)
    for name, (_, new) in plan.changes.items():
        setattr(keep, name, new)
    keep.full_clean(exclude=["organization", "merged_into"])
    keep.save()
    repointed = list(Person.objects.filter(merged_into=other).values_list("pk", flat=True))
    Person.objects.filter(pk__in=repointed).update(merged_into=keep)
    other.merged_into = keep
    other.save(update_fields=["merged_into", "updated_at"])
    OptOut.objects.filter(pk__in=[o.pk for o in plan.opt_outs]).update(person=keep)
    for lead in plan.leads:
        _move_lead(lead, other, keep, actor, undo=False)
        if lead.pk in plan.closing:
            # Two open leads for one StudySite: the moved one closes as a duplicate.
            lead_change_status(
                lead=lead,
                status=Status.CLOSED,
                close_reason=CloseReason.DUPLICATE,
                reason=f"Duplicate of lead {plan.closing[lead.pk].code} after a merge.",
                actor=actor,
            )
    moved, resolved = _move_suspicions(keep, other, actor)
    merge = PersonMerge.objects.create(
        organization_id=keep.organization_id,
        kept=keep,
        merged=other,
        lead_ids=[lead.pk for lead in plan.leads],
        closed_lead_ids=sorted(plan.closing),
        opt_out_ids=[o.pk for o in plan.opt_outs],
        suspicion_ids=moved,
        resolved_suspicion_ids=resolved,
        repointed_person_ids=repointed,
        changed={name: {"old": _json(a), "new": _json(b)} for name, (a, b) in plan.changes.items()},
        merged_by=actor.user,
    )
    audit_record(
        action="person.merged",
        actor=actor.user,
        organization_id=keep.organization_id,
        obj=keep,
        changes={
            "merged_from": {"old": None, "new": str(other.code)},
            "merge": {"old": None, "new": str(merge.code)},
            **_named(plan.changes),
            "leads_moved": {"old": 0, "new": len(plan.leads)},
            "opt_outs_moved": {"old": 0, "new": len(plan.opt_outs)},
        },
        request=actor.request,
    )
    return merge


def _named(changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """The audit's account of changed values: PHI named, never copied."""
    return {
        name: {"phi": True} if name in Person.PHI_FIELDS else {"old": _json(a), "new": _json(b)}
        for name, (a, b) in changes.items()
    }


def _move_lead(lead: Lead, source: Person, target: Person, actor: Actor, *, undo: bool) -> None:
    Lead.objects.filter(pk=lead.pk).update(person=target)
    lead.person = target
    activity_add(
        lead,
        ActivityKind.NOTE,
        actor,
        timezone.now(),
        text="The merge of this person's records was undone."
        if undo
        else "The person's record was merged with a duplicate.",
        data={"moved_from": str(source.code), "moved_to": str(target.code)},
    )
    audit_record(
        action="lead.person_unmerged" if undo else "lead.person_merged",
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes={"person": {"old": str(source.code), "new": str(target.code)}},
        request=actor.request,
    )


def _move_suspicions(keep: Person, other: Person, actor: Actor) -> tuple[list[int], list[int]]:
    """Open suspicions about `other` become about `keep`; those about the two of them, or that
    `keep` already has, are resolved as merged. Returns (moved ids, resolved ids)."""
    taken: set[tuple[int, int | None]] = set(
        SuspectedDuplicate.objects.filter(Q(person=keep) | Q(matched=keep)).values_list(
            "person_id", "matched_id"
        )
    )
    moved, resolved = [], []
    for s in SuspectedDuplicate.objects.select_for_update().filter(
        Q(person=other) | Q(matched=other), resolved_at__isnull=True
    ):
        person_id = keep.pk if s.person_id == other.pk else s.person_id
        matched_id = keep.pk if s.matched_id == other.pk else s.matched_id
        if person_id == matched_id or (matched_id is not None and (person_id, matched_id) in taken):
            s.resolved_at, s.resolved_by = timezone.now(), actor.user
            s.resolution = SuspectedDuplicate.Resolution.MERGED
            s.save(update_fields=["resolved_at", "resolved_by", "resolution"])
            resolved.append(s.pk)
        else:
            SuspectedDuplicate.objects.filter(pk=s.pk).update(
                person_id=person_id, matched_id=matched_id
            )
            taken.add((person_id, matched_id))
            moved.append(s.pk)
    return moved, resolved


def undo_refusal(merge: PersonMerge, now: datetime) -> str:
    """Why this merge cannot be undone now, or "" when it can."""
    if merge.undone_at is not None:
        return "This merge was already undone."
    if now > merge.undo_until:
        made = date_format(timezone.localtime(merge.merged_at), "j F Y")
        return (
            f"This merge can no longer be undone: a merge can be undone for "
            f"{settings.MERGE_UNDO_DAYS} days, and this one was made on {made}."
        )
    return ""


@transaction.atomic
def person_merge_undo(
    *, merge: PersonMerge, actor: Actor, now: datetime | None = None
) -> list[str]:
    """Put back everything the merge moved and the kept person's old values. Returns the fields
    left as they are: changed again since the merge, or consent the person withdrew since."""
    now = now or timezone.now()
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    if refusal := undo_refusal(merge, now):
        raise ValidationError(refusal)
    keep, other = _locked(merge.kept, merge.merged)
    if keep.merged_into_id is not None:
        raise ValidationError(
            f"{keep.full_name} has since been merged into another record: undo that merge first."
        )
    if other.merged_into_id != keep.pk:
        raise ValidationError("These records are no longer merged.")
    other.merged_into = None
    other.save(update_fields=["merged_into", "updated_at"])
    Person.objects.filter(pk__in=merge.repointed_person_ids, merged_into=keep).update(
        merged_into=other
    )
    OptOut.objects.filter(pk__in=merge.opt_out_ids, person=keep).update(person=other)
    _share_new_opt_outs(merge, keep, other, actor)
    moved_back = list(Lead.objects.filter(pk__in=merge.lead_ids, person=keep).order_by("id"))
    for lead in moved_back:
        _move_lead(lead, keep, other, actor, undo=True)
    for lead in Lead.objects.filter(
        pk__in=merge.closed_lead_ids, status=Status.CLOSED, close_reason=CloseReason.DUPLICATE
    ):
        lead_change_status(
            lead=lead,
            status=Status.CONTACTING,
            reason="Reopened: the merge that closed it as a duplicate was undone.",
            actor=actor,
        )
    _restore_suspicions(merge, keep, other)
    restored, left = _restore_values(merge, keep)
    merge.undone_at, merge.undone_by = now, actor.user
    merge.save(update_fields=["undone_at", "undone_by"])
    changes = {
        "merged_from": {"old": str(other.code), "new": None},
        "merge": {"old": None, "new": str(merge.code)},
        **_named(restored),
        "leads_moved_back": {"old": 0, "new": len(moved_back)},
    }
    if left:
        changes["left_as_they_are"] = {"old": None, "new": left}
    audit_record(
        action="person.merge_undone",
        actor=actor.user,
        organization_id=keep.organization_id,
        obj=keep,
        changes=changes,
        request=actor.request,
    )
    return left


def _share_new_opt_outs(merge: PersonMerge, keep: Person, other: Person, actor: Actor) -> None:
    # An opt-out recorded while the two were one record may have come from either human:
    # both keep it, since contacting someone who said stop is worse than one lost contact.
    for entry in OptOut.objects.filter(person=keep, at__gte=merge.merged_at).order_by("at"):
        person_record_opt_out(
            person=other,
            channel=entry.channel,
            actor=actor,
            at=entry.at,
            evidence=f"Recorded while merged with another record. {entry.evidence}".strip(),
        )


def _restore_suspicions(merge: PersonMerge, keep: Person, other: Person) -> None:
    for s in SuspectedDuplicate.objects.filter(pk__in=merge.suspicion_ids):
        s.person_id = other.pk if s.person_id == keep.pk else s.person_id
        s.matched_id = other.pk if s.matched_id == keep.pk else s.matched_id
        s.save(update_fields=["person", "matched"])
    SuspectedDuplicate.objects.filter(
        pk__in=merge.resolved_suspicion_ids, resolution=SuspectedDuplicate.Resolution.MERGED
    ).update(resolved_at=None, resolved_by=None, resolution="")


def _restore_values(
    merge: PersonMerge, keep: Person
) -> tuple[dict[str, tuple[Any, Any]], list[str]]:
    opted_out = {
        f"consent_{c}"
        for c in keep.opt_outs.filter(lifted_at__isnull=True).values_list("channel", flat=True)
    }
    restored: dict[str, tuple[Any, Any]] = {}
    left = []
    for name, entry in sorted(merge.changed.items()):
        current = getattr(keep, name)
        if _json(current) != entry["new"] or (entry["old"] is True and name in opted_out):
            left.append(name)
            continue
        old = Person._meta.get_field(name).to_python(entry["old"])  # type: ignore[union-attr]
        setattr(keep, name, old)
        restored[name] = (current, old)
    keep.full_clean(exclude=["organization", "merged_into"])
    keep.save()
    return restored, left
