"""What an import writes: its people and leads, set-based, and the rejected rows as a file."""

from __future__ import annotations

import csv
import io
import json
import uuid

from django.db import connection
from django.utils import timezone

from leads.intake.csv.reader import Row
from leads.models import Lead, Status
from leads.services.assignment import mark_assigned, owners_for
from leads.services.leads import lead_build
from trialsnest.audit.services import audit_record_many
from trialsnest.lib.db import copy_rows, reserve_ids
from trialsnest.studies.models import StudySite

PERSON_COLUMNS = [
    "id", "organization_id", "first_name", "last_name", "phone", "email",
    "date_of_birth", "postal_code", "preferred_channel", "preferred_time", "preferred_language",
    "consent_phone", "consent_sms", "consent_email", "consent_text_version",
    "created_at", "updated_at",
]  # fmt: skip
# Each lead's own values first; every other column is the same for the whole import.
ROW_COLUMNS = ["id", "code", "person_id", "owner_id"]
SHARED_COLUMNS = [
    "organization_id", "study_site_id", "source", "campaign", "utm", "referral_partner",
    "material_version", "flag", "status", "blocker", "blocker_text", "next_action",
    "next_action_due_at", "attention_at", "stale_at", "sla_due_at", "attempts", "close_reason",
    "received_at", "last_movement_at", "status_changed_at", "version",
]  # fmt: skip
CONSENT_TEXT_VERSION = "vendor-attestation"


def _shared_values(lead: Lead) -> list[object]:
    values: list[object] = []
    for name in SHARED_COLUMNS:
        value = getattr(lead, name)
        values.append(json.dumps(value) if isinstance(value, dict) else value)
    return values


def write(
    *,
    rows: list[Row],
    study_site: StudySite,
    source: str,
    campaign: str,
    consent: list[str],
    actor_id: int,
    import_code: str,
) -> dict[str, int]:
    """Create the people and leads the analysis decided on. Call inside one transaction.

    People and leads go in with COPY. Every lead is built the way a single lead is
    (`lead_build`), once, and its values copied for each row; its timeline entry and audit
    event are written set-based too, one of each per lead.
    """
    now = timezone.now()
    org = study_site.organization_id
    new_people = [r for r in rows if r.action == "create"]
    for row, pk in zip(new_people, reserve_ids("leads_person", len(new_people)), strict=True):
        row.person_id = pk
    version = CONSENT_TEXT_VERSION if consent else ""
    copy_rows(
        "leads_person",
        PERSON_COLUMNS,
        (
            (
                r.person_id, org, r.person["first_name"], r.person["last_name"],
                r.person["phone"], r.person["email"], r.person["date_of_birth"],
                r.person["postal_code"], "", r.person["preferred_time"],
                r.person["preferred_language"] or "en", "phone" in consent, "sms" in consent,
                "email" in consent, version, now, now,
            )
            for r in new_people
        ),
    )  # fmt: skip
    leading = [r for r in rows if r.action in ("create", "attach")]
    if not leading:
        return {"created": 0, "attached": 0}
    owners = owners_for(study_site, len(leading))
    lead_ids = reserve_ids("leads_lead", len(leading))
    codes = [str(uuid.uuid4()) for _ in leading]
    shared = _shared_values(
        lead_build(
            study_site=study_site, source=source, owner=None, now=now, campaign=campaign, flag=""
        )
    )
    copy_rows(
        "leads_lead",
        ROW_COLUMNS + SHARED_COLUMNS,
        (
            (lead_id, code, row.person_id, owner.pk, *shared)
            for lead_id, code, row, owner in zip(lead_ids, codes, leading, owners, strict=True)
        ),
    )
    with connection.cursor() as cursor:
        # The timeline entry of each lead just written, derived from the leads in SQL.
        cursor.execute(
            """INSERT INTO leads_activity
                   (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome,
                    text, data)
               SELECT organization_id, id, 'received', %(now)s, %(actor)s, '', '', '', '',
                      %(data)s::jsonb
               FROM leads_lead WHERE id = ANY(%(ids)s)""",
            {
                "now": now,
                "actor": actor_id,
                "data": json.dumps({"source": source, "import": import_code, "version": 1}),
                "ids": lead_ids,
            },
        )
    audit_record_many(
        action="lead.created",
        actor_id=actor_id,
        organization_id=org,
        object_type="lead",
        object_ids=codes,
        changes={
            "status": {"old": None, "new": Status.NEW},
            "person_fields": {"phi": True},
            "import": {"old": None, "new": import_code},
        },
        reason=f"CSV import {import_code}",
    )
    mark_assigned(owners, now)
    return {"created": len(new_people), "attached": len(leading) - len(new_people)}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def rejected_csv(header: list[str], rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in [*header, "line", "reason"]])
    for row in rows:
        if row.action == "reject":
            writer.writerow([safe_cell(c) for c in [*row.cells, row.line, row.reason]])
    return out.getvalue()
