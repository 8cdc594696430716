"""Writes to people: a new person, and the opt-out ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import ActivityKind, Channel, Lead, OptOut, Person, SuspectedDuplicate
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor, audit_record
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
            changes={"matched": {"new": str(matched.code)}, "reason": {"new": reason}},
            request=actor.request,
        )
    return suspicion


def opted_out_of(person: Person, channel: str) -> bool:
    return person.opt_outs.filter(channel=channel).exists()


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
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick a channel."})
    check_text(evidence, field="evidence", max_length=LINE_MAX)
    at = at or timezone.now()
    entry = OptOut.objects.create(
        person=person,
        channel=channel,
        at=at,
        evidence=evidence,
        consent_text_version=person.consent_text_version,
    )
    setattr(person, f"consent_{channel}", False)
    person.save(update_fields=[f"consent_{channel}", "updated_at"])
    audit_record(
        action="person.opted_out",
        actor=actor.user,
        organization_id=person.organization_id,
        obj=person,
        changes={f"consent_{channel}": {"old": True, "new": False}},
        request=actor.request,
    )
    if lead is not None:
        activity_add(
            lead,
            ActivityKind.NOTE,
            actor,
            at,
            text=f"Opted out of {Channel(channel).label} contact. {evidence}".strip(),
            data={"opt_out": channel},
        )
    return entry
