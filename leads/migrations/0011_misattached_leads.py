"""Leads attached to the wrong person before the identity rule (issue 9): flagged for review.

Until migration 0010 a shared phone or e-mail was enough to attach interest to a known person,
so a household member's interest may sit on someone else's record. Where the received
submission (web form, API) is kept we can tell: its name is not compatible with the person's,
or both dates of birth are known and differ. Each such lead gets a SuspectedDuplicate with no
`matched` person, for a human on the duplicates page. Nothing is moved or rewritten here.

An equal date of birth does not clear a name that disagrees, unlike in intake: intake filled a
known person's missing fields from the submission, so the person's date of birth may be the
submitter's own. A needless review costs a minute; a missed one leaves two people's health
information mixed.

Later submissions logged as repeat interest on a lead are checked too (the lead is the
person's own, but that interest was someone else's); one review per lead, the first found.

The name comparison is a copy of leads.intake.identity as it is today, on purpose: a migration
must give the same answer whatever that module becomes. CSV imports keep no submission per
lead, so their leads cannot be checked this way.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from django.db import migrations

SIMILAR = 0.8
BATCH = 2000


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return SequenceMatcher(None, a, b).ratio() >= SIMILAR


def names_compatible(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    first_a, first_b = _fold(first_a), _fold(first_b)
    last_a, last_b = _fold(last_a), _fold(last_b)
    if not first_a or not first_b:
        return True
    if not _close(first_a.split()[0], first_b.split()[0]) and not _close(first_a, first_b):
        return False
    return not (last_a and last_b) or _close(last_a, last_b)


def _born(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def misattachment(payload: dict[str, Any], person: dict[str, Any], created: bool) -> str:
    """Why this submission may not be this person's, or "" when nothing disagrees."""
    first = str(payload.get("first_name") or "").strip()
    last = str(payload.get("last_name") or "").strip()
    submitted, known = _born(payload.get("date_of_birth")), person["date_of_birth"]
    if submitted and known and submitted != known:
        who = "with another date of birth"
    elif not names_compatible(first, last, person["first_name"], person["last_name"]):
        who = f"as “{f'{first} {last}'.strip()[:100]}”"
    else:
        return ""
    if created:
        return f"Interest submitted {who} was attached to this person."
    return f"Interest submitted {who} was logged as repeat interest on this person's lead."


FIELDS = (
    "id", "payload", "received_at", "lead_id", "lead__code", "lead__received_at",
    "lead__person_id", "lead__person__code", "lead__person__organization_id",
    "lead__person__first_name", "lead__person__last_name", "lead__person__date_of_birth",
)  # fmt: skip


def flag_misattached_leads(apps: Any, schema_editor: Any) -> None:
    Submission = apps.get_model("leads", "Submission")
    SuspectedDuplicate = apps.get_model("leads", "SuspectedDuplicate")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    # One review per lead: a lead already flagged (this ran before) is not flagged again.
    flagged = set(
        SuspectedDuplicate.objects.filter(matched__isnull=True).values_list("lead_id", flat=True)
    )
    suspicions: list[Any] = []
    events: list[Any] = []
    rows = Submission.objects.filter(lead__isnull=False).order_by("id").values(*FIELDS)
    for row in rows.iterator(chunk_size=BATCH):
        if row["lead_id"] in flagged or not isinstance(row["payload"], dict):
            continue
        person = {
            name: row[f"lead__person__{name}"]
            for name in ("first_name", "last_name", "date_of_birth")
        }
        # Intake gives a lead its submission's received time; later ones were repeat interest.
        created = row["received_at"] == row["lead__received_at"]
        reason = misattachment(row["payload"], person, created)
        if not reason:
            continue
        flagged.add(row["lead_id"])
        organization_id = row["lead__person__organization_id"]
        suspicions.append(
            SuspectedDuplicate(
                organization_id=organization_id,
                person_id=row["lead__person_id"],
                lead_id=row["lead_id"],
                submission_id=row["id"],
                reason=reason,
            )
        )
        events.append(
            AuditEvent(
                action="person.suspected_misattached",
                organization_id=organization_id,
                object_type="person",
                object_id=str(row["lead__person__code"]),
                changes={"lead": {"old": None, "new": str(row["lead__code"])}},
                reason="Found by migration leads 0011: the submission names someone else.",
            )
        )
        if len(suspicions) >= BATCH:
            SuspectedDuplicate.objects.bulk_create(suspicions)
            AuditEvent.objects.bulk_create(events)
            suspicions, events = [], []
    SuspectedDuplicate.objects.bulk_create(suspicions)
    AuditEvent.objects.bulk_create(events)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_suspected_duplicates"),
        ("audit", "0005_log_tables"),
    ]

    operations = [
        migrations.RunPython(flag_misattached_leads, migrations.RunPython.noop, elidable=True),
    ]
