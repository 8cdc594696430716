"""Every door patient interest comes through (web form, API, CSV) ends here.

A known person (same normalised phone or e-mail in the organization, and nothing in the name or
date of birth that says it is someone else: leads.intake.identity) gets the new lead. A contact
match that fails that rule is a new person, flagged as a suspected duplicate for review. A person
who already has an open lead for the same StudySite gets "repeat interest" logged on it instead
of a second lead. Concurrent intake of the same contact is serialized with an advisory lock, so
two simultaneous submissions never make two people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.intake.identity import Who, mismatch_reason, same_person
from leads.intake.materials import material_for_code
from leads.models import OPEN_STATUSES, ActivityKind, ApiKey, Channel, Lead, Person
from leads.services.leads import lead_create
from leads.services.people import person_create, suspected_duplicate_record
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.db import advisory_lock
from trialsnest.lib.emails import normalize_email
from trialsnest.lib.phones import normalize_phone
from trialsnest.lib.postal import normalize_postal_code
from trialsnest.lib.text import NAME_MAX, text_problem
from trialsnest.studies.models import StudySite


@dataclass
class IntakeResult:
    lead: Lead
    person: Person
    person_created: bool
    repeat: bool


def clean_contact(phone: str, email: str) -> tuple[str, str]:
    """Normalised phone (E.164) and e-mail; a ValidationError names the bad one."""
    errors: dict[str, str] = {}
    try:
        phone = normalize_phone(phone or "")
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    try:
        email = normalize_email(email or "")
    except ValidationError as exc:
        errors["email"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    if not phone and not email:
        raise ValidationError("A phone number or an e-mail address is needed.")
    return phone, email


def contact_matches(organization_id: int, phone: str, email: str) -> list[Person]:
    """The organization's people with this phone or e-mail (merged duplicates excluded)."""
    contact = Q()
    if phone:
        contact |= Q(phone=phone)
    if email:
        contact |= Q(email=email)
    if not contact:
        return []
    return list(
        Person.objects.filter(organization_id=organization_id, merged_into__isnull=True)
        .filter(contact)
        .order_by("id")[:20]
    )


def match_person(
    organization_id: int, phone: str, email: str, who: Who
) -> tuple[Person | None, Person | None]:
    """(the same person, a contact match that is someone else), either may be None."""
    matches = contact_matches(organization_id, phone, email)
    for candidate in matches:
        if same_person(who, Who.of(candidate)):
            return candidate, None
    return None, (matches[0] if matches else None)


@transaction.atomic
def intake(
    *,
    study_site: StudySite,
    source: str,
    actor: Actor,
    person: dict[str, Any],
    consent: dict[str, bool] | None = None,
    consent_text_version: str = "",
    attribution: dict[str, Any] | None = None,
    material_code: str = "",
    api_key: ApiKey | None = None,
    received_at: datetime | None = None,
) -> IntakeResult:
    person = clean_person_fields(person, study_site.site.country)
    phone, email = clean_contact(person.get("phone", ""), person.get("email", ""))
    organization_id = study_site.organization_id
    advisory_lock(*(f"intake:{organization_id}:{value}" for value in (phone, email) if value))
    consent = consent or {}
    fields = {k: v for k, v in person.items() if k in Person.CONTACT_FIELDS and v not in (None, "")}
    fields.update(phone=phone, email=email)
    who = Who.of(fields)
    existing, lookalike = match_person(organization_id, phone, email, who)
    if existing is None:
        found = person_create(
            organization=study_site.organization,
            actor=actor,
            consent_text_version=consent_text_version,
            **{f"consent_{c}": bool(consent.get(c)) for c in Channel.values},
            **fields,
        )
    else:
        found = existing
        _update_known_person(found, fields, consent, consent_text_version, actor)
    now = received_at or timezone.now()
    material, flag = material_for_code(organization_id, material_code, timezone.localdate(now))
    attribution = dict(attribution or {})
    open_lead = (
        Lead.objects.select_for_update()
        .filter(person=found, study_site=study_site, status__in=OPEN_STATUSES)
        .first()
    )
    if open_lead is not None:
        activity_add(
            open_lead,
            ActivityKind.REPEAT_INTEREST,
            actor,
            now,
            data={"source": source, **{k: str(v) for k, v in attribution.items() if v}},
        )
        audit_record(
            action="lead.repeat_interest",
            actor=actor.user,
            organization_id=organization_id,
            obj=open_lead,
            changes={"source": {"old": open_lead.source, "new": source}},
            request=actor.request,
        )
        return IntakeResult(open_lead, found, False, True)
    lead = lead_create(
        person=found,
        study_site=study_site,
        source=source,
        actor=actor,
        received_at=now,
        material=material,
        material_version=material.material_code if material else material_code[:100],
        flag=flag,
        api_key=api_key,
        **attribution,
    )
    if lookalike is not None:
        suspected_duplicate_record(
            person=found,
            matched=lookalike,
            reason=mismatch_reason(who, Who.of(lookalike)),
            actor=actor,
            lead=lead,
        )
    return IntakeResult(lead, found, existing is None, False)


def _update_known_person(
    person: Person,
    fields: dict[str, Any],
    consent: dict[str, bool],
    consent_text_version: str,
    actor: Actor,
) -> None:
    """Fill what the record lacks and record newly given consent; never overwrite or re-consent
    a channel the person opted out of."""
    changed: list[str] = []
    for name, value in fields.items():
        if not getattr(person, name):
            setattr(person, name, value)
            changed.append(name)
    opted_out = set(
        person.opt_outs.filter(lifted_at__isnull=True).values_list("channel", flat=True)
    )
    for channel in Channel.values:
        granted = consent.get(channel) and channel not in opted_out
        if granted and not getattr(person, f"consent_{channel}"):
            setattr(person, f"consent_{channel}", True)
            changed.append(f"consent_{channel}")
    if any(name.startswith("consent_") for name in changed):
        person.consent_given_at = timezone.now()
        changed.append("consent_given_at")
        if consent_text_version:
            person.consent_text_version = consent_text_version
            changed.append("consent_text_version")
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
        audit_record(
            action="person.updated",
            actor=actor.user,
            organization_id=person.organization_id,
            obj=person,
            changes={
                name: {"phi": True} if name in Person.PHI_FIELDS else {"old": False, "new": True}
                for name in changed
            },
            request=actor.request,
        )


# What each door may send in the person's typed fields (their columns' lengths).
PERSON_TEXT = {"first_name": NAME_MAX, "last_name": NAME_MAX, "preferred_time": 100}


def clean_person_fields(person: dict[str, Any], country: str) -> dict[str, Any]:
    """The person's fields as every door must send them: names without control characters and
    within their columns, the postal code in the form of the site's country (normalised)."""
    errors: dict[str, str] = {}
    for name, limit in PERSON_TEXT.items():
        value = person.get(name)
        if isinstance(value, str) and (problem := text_problem(value, max_length=limit)):
            errors[name] = str(problem)
    cleaned = dict(person)
    if person.get("postal_code"):
        try:
            cleaned["postal_code"] = normalize_postal_code(str(person["postal_code"]), country)
        except ValidationError as exc:
            errors["postal_code"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    return cleaned
