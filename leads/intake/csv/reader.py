"""Reading a vendor or referral list and checking each row on its own.

UTF-8 with or without BOM, comma or semicolon, quoted fields with newlines; blank lines are
ignored. Nothing here touches the database; the longest value each field may hold is the
Person model's.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from leads.models import Person
from trialsnest.lib.emails import normalize_email
from trialsnest.lib.phones import e164
from trialsnest.lib.text import has_control_characters

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
                if "".join(cells).strip():
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
    """A line of the file, then what the import does with it (CsvImportRow's fields)."""

    line: int
    cells: list[str]
    outcome: str = ""  # a CsvImportRow.Outcome, once decided
    reason: str = ""
    person: dict[str, Any] = field(default_factory=dict)  # the checked Person fields
    matched_line: int | None = None
    matched_person_id: int | None = None
    matched_lead_id: int | None = None
    person_id: int | None = None
    lead_id: int | None = None


# What a checked row knows about its person, in this order where it is kept as a list.
PERSON_FIELDS = (
    "first_name", "last_name", "phone", "email", "date_of_birth", "postal_code",
    "preferred_time", "preferred_language",
)  # fmt: skip


def _max_length(name: str) -> int:
    model_field = Person._meta.get_field(name)
    assert isinstance(model_field, models.CharField)  # EmailField is one too
    return model_field.max_length or 0


# Every text field a row sets, with the longest value its Person field holds.
LIMITS = {
    name: _max_length(name)
    for name in (
        "first_name", "last_name", "phone", "email", "postal_code", "preferred_time",
        "preferred_language",
    )
}  # fmt: skip


def _cell(cells: list[str], mapping: dict[str, int], name: str) -> str:
    index = mapping.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def check_row(
    line: int, cells: list[str], mapping: dict[str, int], today: date | None = None
) -> Row:
    """The row's person fields, or the row rejected with every reason (outcome "rejected").
    `today` bounds dates of birth (a caller checking many rows passes it once)."""
    row = Row(line, cells)
    first, last = _cell(cells, mapping, "first_name"), _cell(cells, mapping, "last_name")
    if not first and not last and (full := _cell(cells, mapping, "full_name")):
        first, _, last = full.rpartition(" ") if " " in full else (full, "", "")
    phone_raw, email_raw = _cell(cells, mapping, "phone"), _cell(cells, mapping, "email")
    phone = e164(phone_raw)
    dob_raw = _cell(cells, mapping, "date_of_birth")
    dob = parse_date(dob_raw) if dob_raw else None
    problems = []
    if phone is None:
        problems.append(f"bad phone “{phone_raw}”")
    try:
        email = normalize_email(email_raw)
    except ValidationError:
        email = ""
        problems.append(f"bad e-mail “{email_raw.lower()}”")
    if not phone and not email and phone is not None and not email_raw:
        problems.append("no contact (needs a phone or an e-mail)")
    if dob_raw and (dob is None or not date(1900, 1, 1) <= dob <= (today or timezone.localdate())):
        problems.append(f"unknown date of birth “{dob_raw}” (use YYYY-MM-DD)")
    if not first and not last:
        problems.append("no name")
    elif has_control_characters(first + last):
        problems.append("control characters in the name")
    person: dict[str, Any] = {
        "first_name": first or last,
        "last_name": last if first else "",
        "phone": phone or "",
        "email": email,
        "date_of_birth": dob,
        "postal_code": _cell(cells, mapping, "postal_code"),
        "preferred_time": _cell(cells, mapping, "preferred_time"),
        "preferred_language": _cell(cells, mapping, "preferred_language").lower(),
    }
    for name, limit in LIMITS.items():
        if len(person[name]) > limit:
            label = name.replace("_", " ")
            problems.append(f"{label} longer than {limit} characters ({len(person[name])})")
    if problems:
        row.outcome, row.reason = "rejected", "; ".join(problems)
        return row
    row.person = person
    return row
