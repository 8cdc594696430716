"""Erasing a person on their request: contact details and free text go, everywhere TrialsNest
keeps them; the person and lead rows stay, with their statuses, dates and sources, so reports
and the audit trail (references only) do not change.

Scrubbed here: the person's details, each lead's blocker text and flag, the timeline's texts,
the web forms' and API's submitted payloads, opt-out evidence, messages sent and received, CSV
import rows and their lines in the original files the imports keep (a task rewrites each file
with those lines blanked, leads.intake.csv.scrub), merge records; the other apps scrub their
own through `person_erased`. Rows of a list that were rejected (no person was made of them)
go when the row holds every word of the name and the e-mail or phone. Not here: backups.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.models import (
    Activity,
    CsvImportRow,
    Lead,
    OptOut,
    Person,
    PersonMerge,
    Submission,
)
from leads.outreach.models import InboundMessage, OutboundMessage
from leads.signals import person_erased
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.phones import e164
from trialsnest.ops.outbox import enqueue

ERASED = "Erased"
ERASE_LINES_TASK = "leads.tasks.erase_import_lines"


@transaction.atomic
def person_erase(*, person: Person, actor: Actor, reason: str) -> None:
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.erased_at is not None:
        raise ValidationError("This person's details were erased already.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why (the request's reference), without details."})
    leads = Lead.objects.filter(person=person)
    # With the records merged into this one: the same person, by a member's decision.
    Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person)).update(
        first_name=ERASED, last_name="", phone="", email="", date_of_birth=None,
        postal_code="", preferred_time="", erased_at=timezone.now(),
    )  # fmt: skip
    leads.update(blocker_text="", flag="")
    Activity.objects.filter(lead__person=person).update(text="")  # data holds codes only
    Submission.objects.filter(lead__person=person).update(payload={"erased": True}, error="")
    OptOut.objects.filter(person=person).update(evidence="", lifted_evidence="")
    OutboundMessage.objects.filter(person=person).update(to="", subject="", body="", calendar="")
    InboundMessage.objects.filter(person=person).update(from_number="", body="")
    rejected = _rejected_rows_of(person)
    their_rows = CsvImportRow.objects.filter(
        Q(person=person) | Q(matched_person=person) | Q(pk__in=rejected)
    )
    by_import: dict[int, list[int]] = {}
    for import_id, line in their_rows.values_list("csv_import_id", "line"):
        by_import.setdefault(import_id, []).append(line)
    for import_id, lines in by_import.items():  # the original files: by a task, after commit
        enqueue(ERASE_LINES_TASK, import_id, sorted(lines))
    their_rows.update(cells=[], values=[], reason="")
    PersonMerge.objects.filter(Q(kept=person) | Q(merged=person)).update(changed={})
    person_erased.send(sender=Person, person=person)
    audit_record(
        action="person.erased",
        actor=actor.user,
        organization_id=person.organization_id,
        obj=person,
        reason=reason.strip()[:300],
        request=actor.request,
    )


def _rejected_rows_of(person: Person) -> list[int]:
    """The organization's rejected import rows that are this person's though tied to nobody
    (a bad date of birth, no consent): every word of their name and their e-mail or phone are
    in the row. The name too, as households share an e-mail or a phone. `person` is as read
    before its erasure."""
    names = set(f"{person.first_name} {person.last_name}".lower().split())
    email, phone = person.email.lower(), person.phone  # the phone is kept in E.164
    if not person.first_name or not person.last_name or not (email or phone):
        return []
    candidates = CsvImportRow.objects.filter(
        csv_import__organization_id=person.organization_id,
        outcome=CsvImportRow.Outcome.REJECTED,
        person__isnull=True,
        cells__icontains=person.last_name,
    ).values_list("pk", "cells")
    found = []
    for pk, cells in candidates:
        cells = [str(cell).lower() for cell in cells]
        words = set(" ".join(cells).replace(",", " ").split())
        reached = (email and email in cells) or (phone and any(e164(c) == phone for c in cells))
        if names <= words and reached:
            found.append(pk)
    return found
