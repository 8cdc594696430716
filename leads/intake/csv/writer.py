"""What an import writes, set-based: its people, leads and flags, and its own rows (each line
of the file with its outcome)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import connection
from django.utils import timezone

from leads.intake.csv.matching import FLAGGED, Outcome
from leads.intake.csv.reader import PERSON_FIELDS, Row
from leads.models import CsvImportRow, Lead, Person, Status
from leads.services.assignment import mark_assigned
from leads.services.leads import lead_build
from leads.services.people import suspected_duplicates_record_many
from trialsnest.audit.services import audit_record_many
from trialsnest.lib.db import copy_rows, reserve_ids
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership

PERSON_COLUMNS = [
    "id", "organization_id", "first_name", "last_name", "phone", "email",
    "date_of_birth", "postal_code", "preferred_channel", "preferred_time", "preferred_language",
    "consent_phone", "consent_sms", "consent_email", "consent_text_version", "consent_given_at",
    "created_at", "updated_at",
]  # fmt: skip
# Each lead's own values; every other column is the same for the whole import.
ROW_COLUMNS = ["id", "code", "person_id", "owner_id"]
SHARED_COLUMNS = [
    "organization_id", "study_site_id", "source", "campaign", "utm", "referral_partner",
    "material_version", "flag", "status", "blocker", "blocker_text", "next_action",
    "next_action_due_at", "attention_at", "stale_at", "sla_due_at", "attempts", "close_reason",
    "received_at", "last_movement_at", "status_changed_at", "version",
]  # fmt: skip
CONSENT_TEXT_VERSION = "vendor-attestation"
# Outcomes that get a lead.
LEADING = (Outcome.CREATED, Outcome.ATTACHED, Outcome.SUSPECTED)


def _shared_values(lead: Lead) -> list[Any]:
    values: list[Any] = []
    for name in SHARED_COLUMNS:
        value = getattr(lead, name)
        values.append(json.dumps(value) if isinstance(value, dict) else value)
    return values


def reserve(rows: list[Row]) -> None:
    """Take the ids of the people and leads the rows will write, as the check decides them;
    a household member of an earlier line is matched with that line's person."""
    new_people = [r for r in rows if r.outcome in (Outcome.CREATED, Outcome.SUSPECTED)]
    for row, pk in zip(new_people, reserve_ids("leads_person", len(new_people)), strict=True):
        row.person_id = pk
    leading = [r for r in rows if r.outcome in LEADING]
    for row, pk in zip(leading, reserve_ids("leads_lead", len(leading)), strict=True):
        row.lead_id = pk
    person_of_line = {r.line: r.person_id for r in new_people + leading}
    for row in new_people:
        if row.matched_person_id is None and row.matched_line is not None:
            row.matched_person_id = person_of_line.get(row.matched_line)


def write(
    *,
    rows: list[Row],
    study_site: StudySite,
    source: str,
    campaign: str,
    consent: list[str],
    actor_id: int,
    import_code: str,
    import_id: int,
    owners: list[Membership],
) -> None:
    """Write what the rows' outcomes say, with the ids `reserve` took: a person for each new
    one (created or suspected), a lead for each of those and each attached row (owned by
    `owners`, one each), and a flag for each suspected one. Call inside the chunk's
    transaction.

    People and leads go in with COPY. Every lead is built the way a single lead is
    (`lead_build`), once, and its values copied for each row; its timeline entry and audit
    event are written set-based too, one of each per lead.
    """
    now = timezone.now()
    org = study_site.organization_id
    version = CONSENT_TEXT_VERSION if consent else ""
    _write_people(
        import_id, org, [r for r in rows if r.outcome in (Outcome.CREATED, Outcome.SUSPECTED)],
        consent, version, now,
    )  # fmt: skip
    leading = [r for r in rows if r.outcome in LEADING]
    if not leading:
        return
    codes = [str(uuid.uuid4()) for _ in leading]
    shared = _shared_values(
        lead_build(
            study_site=study_site, source=source, owner=None, now=now, campaign=campaign, flag=""
        )
    )
    with connection.cursor() as cursor:
        # The lead's own values as comma-joined text (ids and codes have no comma): quicker to
        # send than a COPY row, whose other 22 values are the same for every lead.
        cursor.execute(
            f"""INSERT INTO leads_lead ({", ".join(ROW_COLUMNS + SHARED_COLUMNS)})
                SELECT v.*, {", ".join(["%s"] * len(SHARED_COLUMNS))}
                FROM unnest(string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::uuid[],
                            string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::bigint[])
                     AS v""",  # noqa: S608 - column names are this module's constants
            [
                *shared,
                ",".join(str(row.lead_id) for row in leading),
                ",".join(codes),
                ",".join(str(row.person_id) for row in leading),
                ",".join(str(owner.pk) for owner in owners),
            ],
        )
    lead_ids = [row.lead_id for row in leading]
    with connection.cursor() as cursor:
        # The timeline entry of each lead just written, derived from the leads in SQL.
        cursor.execute(
            """INSERT INTO leads_activity
                   (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome,
                    text, data)
               SELECT organization_id, id, 'received', %(now)s, %(actor)s, '', '', '', '',
                      %(data)s::jsonb
               FROM leads_lead WHERE id = ANY(string_to_array(%(ids)s, ',')::bigint[])""",
            {
                "now": now,
                "actor": actor_id,
                "data": json.dumps({"source": source, "import": import_code, "version": 1}),
                "ids": ",".join(map(str, lead_ids)),
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
    suspected = [r for r in rows if r.outcome == Outcome.SUSPECTED and r.person_id]
    _match_lines(import_id, rows, suspected)
    suspected_duplicates_record_many(
        organization_id=org,
        suspicions=[
            (r.person_id, r.matched_person_id, r.lead_id, r.reason.removesuffix(f": {FLAGGED}"))
            for r in suspected
            if r.person_id and r.matched_person_id
        ],
        actor_id=actor_id,
    )


def _write_people(
    import_id: int, org: int, rows: list[Row], consent: list[str], version: str, now: Any
) -> None:
    """A person for each of `rows`, with the id `reserve` took, from the fields the check kept
    (CsvImportRow.values): in SQL, so 100,000 people are not sent back to the database they
    were just read from."""
    if not rows:
        return
    fields = {name: f"r.values->>{i}" for i, name in enumerate(PERSON_FIELDS)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO leads_person ({", ".join(PERSON_COLUMNS)})
                SELECT v.person_id, %(org)s, {fields["first_name"]}, {fields["last_name"]},
                       {fields["phone"]}, {fields["email"]}, ({fields["date_of_birth"]})::date,
                       {fields["postal_code"]}, '', {fields["preferred_time"]},
                       coalesce(nullif({fields["preferred_language"]}, ''), 'en'),
                       %(phone)s, %(sms)s, %(email)s, %(version)s, %(given)s, %(now)s, %(now)s
                FROM unnest(%(lines)s::integer[], %(people)s::bigint[]) AS v(line, person_id)
                JOIN leads_csvimportrow AS r
                  ON r.csv_import_id = %(import)s AND r.line = v.line""",  # noqa: S608 - constants
            {
                "org": org,
                "import": import_id,
                "phone": "phone" in consent,
                "sms": "sms" in consent,
                "email": "email" in consent,
                "version": version,
                "given": now if consent else None,
                "now": now,
                "lines": [r.line for r in rows],
                "people": [r.person_id for r in rows],
            },
        )


def _match_lines(import_id: int, rows: list[Row], suspected: list[Row]) -> None:
    """A household member is matched with the person `reserve` took for the earlier line; if
    that line turned out to be someone known after all, with whoever its person is now."""
    present = set(
        Person.objects.filter(pk__in={r.matched_person_id for r in suspected}).values_list(
            "pk", flat=True
        )
    )
    stale = [r for r in suspected if r.matched_person_id not in present and r.matched_line]
    if not stale:
        return
    person_of_line: dict[int, int | None] = dict(
        CsvImportRow.objects.filter(
            csv_import_id=import_id, line__in={r.matched_line for r in stale}
        ).values_list("line", "person_id")
    )
    person_of_line |= {r.line: r.person_id for r in rows}
    for row in stale:
        row.matched_person_id = person_of_line.get(row.matched_line or 0)


STORED_COLUMNS = [
    "csv_import_id", "line", "outcome", "reason", "cells", "values", "matched_line",
    "matched_person_id", "matched_lead_id", "person_id", "lead_id",
]  # fmt: skip


_BORN = PERSON_FIELDS.index("date_of_birth")


def _values(row: Row) -> str:
    if not row.person:
        return "[]"
    values = [row.person[name] for name in PERSON_FIELDS]
    born = row.person["date_of_birth"]
    values[_BORN] = born.isoformat() if born else None
    return json.dumps(values)  # no options: json's own fast path


def store_rows(import_id: int, rows: list[Row]) -> None:
    """Keep the checked rows, with their outcomes and reserved ids (not written yet)."""
    copy_rows(
        "leads_csvimportrow",
        STORED_COLUMNS,
        (
            (
                import_id, r.line, r.outcome, r.reason, json.dumps(r.cells), _values(r),
                r.matched_line, r.matched_person_id, r.matched_lead_id, r.person_id, r.lead_id,
            )
            for r in rows
        ),
    )  # fmt: skip


def store_changes(import_id: int, rows: list[Row]) -> None:
    """New outcomes for rows the writer decided again, in one statement."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE leads_csvimportrow AS stored
               SET outcome = v.outcome, reason = v.reason, matched_person_id = v.matched_person,
                   matched_lead_id = v.matched_lead, person_id = v.person, lead_id = v.lead
               FROM unnest(%(lines)s::integer[], %(outcomes)s::text[], %(reasons)s::text[],
                           %(matched_people)s::bigint[], %(matched_leads)s::bigint[],
                           %(people)s::bigint[], %(leads)s::bigint[])
                    AS v(line, outcome, reason, matched_person, matched_lead, person, lead)
               WHERE stored.csv_import_id = %(import)s AND stored.line = v.line""",
            {
                "import": import_id,
                "lines": [r.line for r in rows],
                "outcomes": [r.outcome for r in rows],
                "reasons": [r.reason for r in rows],
                "matched_people": [r.matched_person_id for r in rows],
                "matched_leads": [r.matched_lead_id for r in rows],
                "people": [r.person_id for r in rows],
                "leads": [r.lead_id for r in rows],
            },
        )


def take_chunk(import_id: int, after_line: int, size: int) -> list[Row]:
    """The next `size` rows after `after_line`: the import's `written_through`, which moves on
    in the transaction that writes them, so a chunk rolled back is taken again. (Marking each
    row written cost a tenth of an import: an UPDATE of every row.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT line, outcome, reason, values, matched_line, matched_person_id,
                      matched_lead_id, person_id, lead_id
               FROM leads_csvimportrow
               WHERE csv_import_id = %(import)s AND line > %(after)s
               ORDER BY line LIMIT %(size)s""",
            {"import": import_id, "after": after_line, "size": size},
        )
        taken = cursor.fetchall()
    # Django reads jsonb as text (JSONField decodes it): so does this. A rejected row has
    # no values (so no fields).
    return [
        Row(line, [], outcome, reason, dict(zip(PERSON_FIELDS, json.loads(v), strict=False)), *ids)
        for line, outcome, reason, v, *ids in taken
    ]
