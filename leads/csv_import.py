"""CSV import of vendor and referral lists.

Reading: UTF-8 with or without BOM, comma or semicolon, quoted fields with newlines; blank lines
are ignored. Each row gets an outcome before anything is written: create (a new person), attach
(a known person, new lead), skip (a duplicate of an earlier row or a person who already has an
open lead for the StudySite) or reject (with the reason). Writing is set-based: people, leads,
their timeline entries and audit events go in with COPY, in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from leads.models import OPEN_STATUSES, ActionKind, CsvImport, Lead, Status
from leads.phones import e164
from leads.services import Actor, owners_for, policy_for, refresh_attention, sla_deadline
from trialsnest.audit.services import audit_record
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership

# field: (label, headers that name it, lowercased without spaces/punctuation)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "first_name": ("First name", ("firstname", "first", "givenname", "fname", "nombre")),
    "last_name": ("Last name", ("lastname", "last", "surname", "familyname", "lname", "apellido")),
    "full_name": ("Full name (split at the last space)", ("name", "fullname", "patientname")),
    "phone": ("Phone", ("phone", "phonenumber", "mobile", "cell", "cellphone", "telephone", "tel")),
    "email": ("E-mail", ("email", "emailaddress", "mail", "correo")),
    "date_of_birth": ("Date of birth", ("dob", "dateofbirth", "birthdate", "birthday")),
    "postal_code": ("Postal code", ("zip", "zipcode", "postalcode", "postcode")),
    "preferred_time": ("Preferred time", ("preferredtime", "besttime", "besttimetocall")),
    "preferred_language": ("Language", ("language", "preferredlanguage", "lang")),
}
MAX_BYTES = 50 * 1024 * 1024
_NOT_WORD = re.compile(r"[^a-z]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y")


class CsvError(ValueError):
    """The file as a whole cannot be read; the message says why in one line."""


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise CsvError("The file is larger than 50 MB; split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(
            f"The file is not UTF-8 text (byte {exc.start}); save it as “CSV UTF-8”."
        ) from exc
    if "\x00" in text:
        raise CsvError("The file contains NUL characters; it does not look like a CSV file.")
    return text


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dialect_of(text: str) -> str:
    """Comma or semicolon, judged on the header line."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings, as slices: no second copy of a large file."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def read_rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and (line number, cells) for each non-blank row."""
    reader = csv.reader(_lines(text), delimiter=dialect_of(text))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise CsvError("The file is empty.") from None
    except csv.Error as exc:
        raise CsvError(f"The header cannot be read: {exc}.") from exc
    if not any(header):
        raise CsvError("The first line should name the columns.")

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield reader.line_num, cells
        except csv.Error as exc:
            raise CsvError(f"Line {reader.line_num} cannot be read: {exc}.") from exc

    return header, rows()


def guess_mapping(header: list[str]) -> dict[str, int]:
    """Field → column index, from the header names."""
    mapping: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _NOT_WORD.sub("", name.lower())
        for field_name, (_, names) in FIELDS.items():
            if key in names and field_name not in mapping:
                mapping[field_name] = index
                break
    if "first_name" in mapping or "last_name" in mapping:
        mapping.pop("full_name", None)
    return mapping


# Checking each row -----------------------------------------------------------------------


def parse_date(raw: str) -> date | None:
    raw = raw.strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    for fmt in DATE_FORMATS[1:]:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


@dataclass(slots=True)
class Row:
    line: int
    cells: list[str]
    action: str = "create"  # create | attach | skip | reject
    reason: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    person_id: int | None = None


def _cell(cells: list[str], mapping: dict[str, int], name: str) -> str:
    index = mapping.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def check_row(line: int, cells: list[str], mapping: dict[str, int]) -> Row:
    row = Row(line, cells)
    first, last = _cell(cells, mapping, "first_name"), _cell(cells, mapping, "last_name")
    if not first and not last and (full := _cell(cells, mapping, "full_name")):
        first, _, last = full.rpartition(" ") if " " in full else (full, "", "")
    phone_raw, email = _cell(cells, mapping, "phone"), _cell(cells, mapping, "email").lower()
    phone = e164(phone_raw)
    dob_raw = _cell(cells, mapping, "date_of_birth")
    dob = parse_date(dob_raw) if dob_raw else None
    problems = []
    if phone is None:
        problems.append(f"bad phone “{phone_raw}”")
    if email and not _EMAIL.match(email):
        problems.append(f"bad e-mail “{email}”")
    if not phone and not email and phone is not None:
        problems.append("no contact (needs a phone or an e-mail)")
    if dob_raw and (dob is None or not date(1900, 1, 1) <= dob <= timezone.localdate()):
        problems.append(f"unknown date of birth “{dob_raw}” (use YYYY-MM-DD)")
    if not first and not last:
        problems.append("no name")
    if problems:
        row.action, row.reason = "reject", "; ".join(problems)
        return row
    row.person = {
        "first_name": (first or last)[:100],
        "last_name": (last if first else "")[:100],
        "phone": phone or "",
        "email": email[:254],
        "date_of_birth": dob,
        "postal_code": _cell(cells, mapping, "postal_code")[:20],
        "preferred_time": _cell(cells, mapping, "preferred_time")[:100],
        "preferred_language": _cell(cells, mapping, "preferred_language")[:20].lower(),
    }
    return row


def analyze(
    text: str,
    mapping: dict[str, int],
    study_site: StudySite,
    progress: Callable[[int], None] | None = None,
    keep_cells: bool = True,
) -> list[Row]:
    """Every row's outcome against the file itself and the organization's people.

    Without `keep_cells`, only rejected rows keep their original cells (for the rejected-rows
    file): a 100,000-row import then fits in far less memory.
    """
    _, rows_iter = read_rows(text)
    rows = []
    for line, cells in rows_iter:
        row = check_row(line, cells, mapping)
        if not keep_cells and row.action != "reject":
            row.cells = []
        rows.append(row)
        if progress is not None and len(rows) % 10_000 == 0:
            progress(len(rows))
    seen: dict[str, int] = {}
    for row in rows:
        if row.action == "reject":
            continue
        for key in (row.person["phone"], row.person["email"]):
            if key and key in seen:
                row.action, row.reason = "skip", f"duplicate of line {seen[key]} in this file"
                break
        else:
            for key in (row.person["phone"], row.person["email"]):
                if key:
                    seen[key] = row.line
    _match_people(rows, study_site)
    return rows


def _match_people(rows: list[Row], study_site: StudySite) -> None:
    candidates = [r for r in rows if r.action == "create"]
    phones = sorted({r.person["phone"] for r in candidates if r.person["phone"]})
    emails = sorted({r.person["email"] for r in candidates if r.person["email"]})
    by_contact: dict[str, int] = {}
    with connection.cursor() as cursor:
        # Arrays, not IN lists: one statement however long the file, on the contact indexes.
        cursor.execute(
            """SELECT id, phone, email FROM leads_person
               WHERE organization_id = %(org)s AND merged_into_id IS NULL
                 AND phone = ANY(%(phones)s)
               UNION
               SELECT id, phone, email FROM leads_person
               WHERE organization_id = %(org)s AND merged_into_id IS NULL
                 AND email = ANY(%(emails)s)
               ORDER BY id DESC""",
            {"org": study_site.organization_id, "phones": phones, "emails": emails},
        )
        for pk, phone, email in cursor.fetchall():
            for key in (phone, email):
                if key:
                    by_contact[key] = pk
    for row in candidates:
        row.person_id = by_contact.get(row.person["phone"]) or by_contact.get(row.person["email"])
        if row.person_id:
            row.action = "attach"
    attached = [r.person_id for r in candidates if r.person_id]
    busy: set[int] = set()
    if attached:
        busy = set(
            Lead.objects.filter(
                person_id__in=attached, study_site=study_site, status__in=OPEN_STATUSES
            ).values_list("person_id", flat=True)
        )
    for row in candidates:
        if row.person_id in busy:
            row.action, row.reason = "skip", "already has an open lead for this study"


def summary(rows: list[Row]) -> dict[str, int]:
    counts = dict.fromkeys(("create", "attach", "skip", "reject"), 0)
    for row in rows:
        counts[row.action] += 1
    return counts


# Exports ---------------------------------------------------------------------------------

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


# Owners ----------------------------------------------------------------------------------


def new_lead_template(study_site: StudySite, now: datetime) -> Lead:
    """The computed fields every imported lead shares (same StudySite, same moment)."""
    lead = Lead(
        organization_id=study_site.organization_id,
        study_site=study_site,
        status=Status.NEW,
        next_action=ActionKind.FIRST_CONTACT,
        next_action_due_at=now,
        received_at=now,
        last_movement_at=now,
        status_changed_at=now,
    )
    policy = policy_for(study_site)
    lead.sla_due_at = sla_deadline(lead, policy, now)
    refresh_attention(lead, policy)
    return lead


# Writing ---------------------------------------------------------------------------------

PERSON_COLUMNS = [
    "id", "organization_id", "first_name", "last_name", "phone", "email",
    "date_of_birth", "postal_code", "preferred_channel", "preferred_time", "preferred_language",
    "consent_phone", "consent_sms", "consent_email", "consent_text_version",
    "created_at", "updated_at",
]  # fmt: skip
LEAD_COLUMNS = [
    "id", "organization_id", "person_id", "study_site_id", "source", "campaign", "utm",
    "referral_partner", "material_version", "owner_id", "status", "blocker", "blocker_text",
    "next_action", "next_action_due_at", "attention_at", "stale_at", "sla_due_at", "attempts",
    "close_reason", "received_at", "last_movement_at", "status_changed_at", "version",
]  # fmt: skip
CONSENT_TEXT_VERSION = "vendor-attestation"


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

    People and leads go in with COPY (the database makes their codes); their timeline entry and
    audit event are derived from them in SQL, one of each per lead.
    """
    from trialsnest.db import copy_rows, reserve_ids

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
    t = new_lead_template(study_site, now)
    copy_rows(
        "leads_lead",
        LEAD_COLUMNS,
        (
            (
                lead_id, org, row.person_id, study_site.pk, source, campaign, "{}", "", "",
                owner.pk, t.status, "", "", t.next_action, t.next_action_due_at,
                t.attention_at, t.stale_at, t.sla_due_at, 0, "", now, now, now, 1,
            )
            for lead_id, row, owner in zip(lead_ids, leading, owners, strict=True)
        ),
    )  # fmt: skip
    received = json.dumps({"source": source, "import": import_code, "version": 1})
    changes = json.dumps(
        {
            "status": {"old": None, "new": Status.NEW},
            "person_fields": {"phi": True},
            "import": {"old": None, "new": import_code},
        }
    )
    with connection.cursor() as cursor:
        # One timeline entry and one audit event per lead, derived in SQL from the leads just
        # written (their person and owner are on the lead itself).
        cursor.execute(
            """INSERT INTO leads_activity
                   (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome,
                    text, data)
               SELECT organization_id, id, 'received', %(now)s, %(actor)s, '', '', '', '',
                      %(data)s::jsonb
               FROM leads_lead WHERE id = ANY(%(ids)s)""",
            {"now": now, "actor": actor_id, "data": received, "ids": lead_ids},
        )
        cursor.execute(
            """INSERT INTO audit_auditevent
                   (at, actor_id, organization_id, action, object_type, object_id, changes,
                    reason, ip)
               SELECT %(now)s, %(actor)s, organization_id, 'lead.created', 'lead', code::text,
                      %(changes)s::jsonb, %(reason)s, null
               FROM leads_lead WHERE id = ANY(%(ids)s)""",
            {
                "now": now,
                "actor": actor_id,
                "changes": changes,
                "reason": f"CSV import {import_code}",
                "ids": lead_ids,
            },
        )
    Membership.objects.filter(pk__in={owner.pk for owner in owners}).update(last_assigned_at=now)
    return {"created": len(new_people), "attached": len(leading) - len(new_people)}


# Services: upload, mapping, start ---------------------------------------------------------


def previous_imports(imp: CsvImport) -> list[CsvImport]:
    """Earlier imports of the very same file in the organization (to warn before a re-import)."""
    return list(
        CsvImport.objects.filter(organization_id=imp.organization_id, sha256=imp.sha256)
        .exclude(pk=imp.pk)
        .exclude(state=CsvImport.State.UPLOADED)
        .select_related("uploaded_by")
        .order_by("-created_at")
    )


def csv_import_upload(
    *,
    data: bytes,
    filename: str,
    study_site: StudySite,
    source: str,
    campaign: str,
    actor: Actor,
) -> CsvImport:
    """Keep the original file and guess the column mapping; nothing is imported yet."""
    text = decode(data)
    header, _ = read_rows(text)
    assert actor.user is not None
    with transaction.atomic():
        imp = CsvImport(
            organization_id=study_site.organization_id,
            study_site=study_site,
            source=source,
            campaign=campaign[:200],
            uploaded_by=actor.user,
            filename=filename[:255],
            sha256=sha256(data),
            mapping={"columns": guess_mapping(header), "consent": []},
        )
        imp.file.save(f"{uuid.uuid4()}.csv", ContentFile(data), save=False)
        imp.save()
        audit_record(
            action="csv_import.uploaded",
            actor=actor.user,
            organization_id=imp.organization_id,
            obj=imp,
            changes={"filename": {"old": None, "new": imp.filename}},
            request=actor.request,
        )
    return imp


def csv_import_set_mapping(
    *, imp: CsvImport, columns: dict[str, int], consent: list[str], actor: Actor
) -> None:
    if imp.state != CsvImport.State.UPLOADED:
        raise ValidationError("This import has already started.")
    before = dict(imp.mapping)
    imp.mapping = {"columns": columns, "consent": consent}
    imp.save(update_fields=["mapping"])
    audit_record(
        action="csv_import.mapped",
        actor=actor.user,
        organization_id=imp.organization_id,
        obj=imp,
        changes={"mapping": {"old": before, "new": imp.mapping}},
        request=actor.request,
    )


@transaction.atomic
def csv_import_start(*, imp: CsvImport, attested: bool, again: bool, actor: Actor) -> None:
    """Queue the import; the worker runs it after this transaction commits."""
    imp = CsvImport.objects.select_for_update().get(pk=imp.pk)
    if imp.state != CsvImport.State.UPLOADED:
        raise ValidationError("This import has already started.")
    if not attested:
        raise ValidationError(
            {"attested": "Confirm that the people in this list agreed to be contacted."}
        )
    if previous_imports(imp) and not again:
        raise ValidationError(
            {"again": "This file was imported before: confirm to import it again."}
        )
    columns = imp.mapping.get("columns", {})
    if "phone" not in columns and "email" not in columns:
        raise ValidationError("Map a phone or an e-mail column first.")
    imp.consent_attested = True
    imp.state = CsvImport.State.QUEUED
    imp.save(update_fields=["consent_attested", "state"])
    audit_record(
        action="csv_import.started",
        actor=actor.user,
        organization_id=imp.organization_id,
        obj=imp,
        request=actor.request,
    )
    from leads.csv_tasks import import_csv

    import_id = imp.pk
    transaction.on_commit(lambda: import_csv.delay(import_id))
