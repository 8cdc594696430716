"""A lead that came from someone else's submission, moved to a person of its own.

Before the identity rule, interest from a household member who shares a phone or e-mail was
attached to the known person (migration 0011 flags those leads for review). When a reviewer
finds the interest was someone else's, the lead moves with its timeline to a new person made
from what that submission said, with the consent it gave, and the two are recorded as
different people. Nothing else of the first person changes: a human checks their consent.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.intake.duplicates import duplicate_dismiss, separable
from leads.intake.submissions import submission_arguments
from leads.models import ActivityKind, Channel, Lead, Person, SuspectedDuplicate
from leads.services.people import person_create
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor, audit_record


@transaction.atomic
def lead_separate(*, suspicion: SuspectedDuplicate, actor: Actor) -> Person:
    """Move the suspicion's lead to a new person made from its submission; returns them."""
    suspicion = (
        SuspectedDuplicate.objects.select_for_update(of=("self",))
        .select_related("person", "lead", "submission")
        .get(pk=suspicion.pk)
    )
    if suspicion.resolved_at is not None:
        raise ValidationError("Someone has already reviewed this.")
    if not separable(suspicion):
        raise ValidationError("Only a lead that came from this submission can be moved.")
    lead, submission, first = suspicion.lead, suspicion.submission, suspicion.person
    assert lead is not None
    assert submission is not None
    arguments = submission_arguments(submission)
    fields = {
        name: value
        for name, value in arguments["person"].items()
        if name in Person.CONTACT_FIELDS and value not in (None, "")
    }
    new = person_create(
        organization=first.organization,
        actor=actor,
        consent_text_version=arguments["consent_text_version"],
        **{f"consent_{c}": bool(arguments["consent"].get(c)) for c in Channel.values},
        **fields,
    )
    Lead.objects.filter(pk=lead.pk).update(person=new)
    lead.person = new
    activity_add(
        lead,
        ActivityKind.NOTE,
        actor,
        timezone.now(),
        text="Moved to a record of its own: the interest was submitted by someone else than "
        "the person it had been attached to.",
        data={"moved_from": str(first.code), "moved_to": str(new.code)},
    )
    audit_record(
        action="lead.person_separated",
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes={"person": {"old": str(first.code), "new": str(new.code)}},
        request=actor.request,
    )
    suspicion.resolved_at, suspicion.resolved_by = timezone.now(), actor.user
    suspicion.resolution = SuspectedDuplicate.Resolution.SEPARATED
    suspicion.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    duplicate_dismiss(a=first, b=new, actor=actor)
    return new
