"""Each row's outcome before anything is written: create (a new person), attach (a known person,
new lead), skip (a duplicate of an earlier row, or a person who already has an open lead for
the StudySite) or reject (with the reason)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

from leads.intake.csv.reader import Row, check_row, read_rows
from leads.models import OPEN_STATUSES, Lead
from trialsnest.studies.models import StudySite


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
