"""Writes to people: a new person, and the opt-out ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import ActivityKind, Channel, Lead, OptOut, Person, SuspectedDuplicate
from leads.services.timeline import activities_add, activity_build
from trialsnest.audit.services import Actor, audit_record, audit_record_each, audit_record_many
from trialsnest.lib.db import copy_rows
from trialsnest.lib.emails import normalize_email
from trialsnest.lib.phones import normalize_phone
from trialsnest.lib.text import LINE_MAX, check_text
from trialsnest.tenancy.models import Organization


@transaction.atomic
def person_create(*, organization: Organization, actor: Actor, **fields: Any) -> Person:
    fields["phone"] = normalize_phone(fields.get("phone", ""))
    fields["email"] = normalize_email(fields.get("email", ""))
    if not fields["phone"] and not fields["email"]:
        raise ValidationError("A phone number or an e-mail address is needed.")
    if any(fields.get(f"consent_{channel}") for channel in Channel.values):
        fields.setdefault("consent_given_at", timezone.now())
    person = Person(organization=organization, **fields)
    person.full_clean()
    person.save()
    audit_record(
        action="person.created",
        actor=actor.user,
        organization=organization,
        obj=person,
        changes={name: {"phi": True} for name in Person.PHI_FIELDS if fields.get(name)},
        request=actor.request,
    )
    return person


def suspected_duplicate_record(
    *, person: Person, matched: Person, reason: str, actor: Actor, lead: Lead | None = None
) -> SuspectedDuplicate:
    """Flag a new person who shares a contact with `matched` for a human to review (once)."""
    suspicion, created = SuspectedDuplicate.objects.get_or_create(
        person=person,
        matched=matched,
        defaults={"organization_id": person.organization_id, "lead": lead, "reason": reason},
    )
    if created:
        audit_record(
            action="person.suspected_duplicate",
            actor=actor.user,
            organization_id=person.organization_id,
            obj=person,
            changes=_suspicion_changes(str(matched.code), reason),
            request=actor.request,
        )
    return suspicion


def _suspicion_changes(matched_code: str, reason: str) -> dict[str, Any]:
    return {"matched": {"new": matched_code}, "reason": {"new": reason}}


def suspected_duplicates_record_many(
    *,
    organization_id: int,
    suspicions: Sequence[tuple[int, int, int | None, str]],
    actor_id: int | None,
) -> int:
    """suspected_duplicate_record for many new people at once (a CSV import), set-based with
    COPY: (person id, matched person id, lead id, reason) each. New people have no flag yet,
    so there is none to find first. Call inside the transaction that wrote them."""
    if not suspicions:
        return 0
    ids = {pk for person, matched, _, _ in suspicions for pk in (person, matched)}
    codes = dict(Person.objects.filter(pk__in=ids).values_list("pk", "code"))
    now = timezone.now()
    copy_rows(
        "leads_suspectedduplicate",
        ["code", "organization_id", "person_id", "matched_id", "lead_id", "reason", "created_at",
         "resolution"],
        (
            (uuid.uuid4(), organization_id, person, matched, lead, reason, now, "")
            for person, matched, lead, reason in suspicions
        ),
    )  # fmt: skip
    return audit_record_each(
        action="person.suspected_duplicate",
        actor_id=actor_id,
        organization_id=organization_id,
        object_type="person",
        changes=(
            (str(codes[person]), _suspicion_changes(str(codes[matched]), reason))
            for person, matched, _, reason in suspicions
        ),
    )


def opted_out_of(person: Person, channel: str) -> bool:
    """Whether an opt-out of the channel is in force (not lifted by the person's own opt-in)."""
    return person.opt_outs.filter(channel=channel, lifted_at__isnull=True).exists()


@transaction.atomic
def person_record_opt_out(
    *,
    person: Person,
    channel: str,
    actor: Actor,
    evidence: str = "",
    at: datetime | None = None,
    lead: Lead | None = None,
) -> OptOut:
    """Add to the opt-out ledger and withdraw consent for the channel at once."""
    [entry] = people_record_opt_out(
        opting_out=[(person, lead, evidence, at or timezone.now())], channel=channel, actor=actor
    )
    return entry


@transaction.atomic
def people_record_opt_out(
    *,
    opting_out: Sequence[tuple[Person, Lead | None, str, datetime]],
    channel: str,
    actor: Actor,
) -> list[OptOut]:
    """The opt-outs of people of one organization (each with the lead whose timeline shows it,
    if any, its evidence and when it was asked for), set-based: the ledger entries, the
    consents withdrawn, an audit event each and the timeline notes, a statement of each."""
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick a channel."})
    for _, _, evidence, _ in opting_out:
        check_text(evidence, field="evidence", max_length=LINE_MAX)
    people = [person for person, _, _, _ in opting_out]
    if len({person.organization_id for person in people}) > 1:
        raise ValueError("The people opting out belong to one organization.")
    if not people:
        return []
    now = timezone.now()
    entries = OptOut.objects.bulk_create(
        OptOut(person=person, channel=channel, at=at, evidence=evidence,
               consent_text_version=person.consent_text_version)
        for person, _, evidence, at in opting_out
    )  # fmt: skip
    consent = f"consent_{channel}"
    Person.objects.filter(pk__in=[person.pk for person in people]).update(
        **{consent: False}, updated_at=now
    )
    for person in people:
        setattr(person, consent, False)
        person.updated_at = now
    changes = {consent: {"old": True, "new": False}}
    if actor.request is not None or len(people) == 1:  # a person's own action keeps its IP
        for person in people:
            audit_record(
                action="person.opted_out", actor=actor.user, obj=person, changes=changes,
                organization_id=person.organization_id, request=actor.request,
            )  # fmt: skip
    else:
        audit_record_many(
            action="person.opted_out",
            actor_id=actor.user.pk if actor.user is not None else None,
            organization_id=people[0].organization_id,
            object_type="person",
            object_ids=[str(person.code) for person in people],
            changes=changes,
        )
    activities_add(
        activity_build(
            lead, ActivityKind.NOTE, actor, at,
            text=f"Opted out of {Channel(channel).label} contact. {evidence}".strip(),
            data={"opt_out": channel},
        )
        for _, lead, evidence, at in opting_out
        if lead is not None
    )  # fmt: skip
    return entries
