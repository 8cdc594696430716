"""Each row's outcome, by the one identity rule (leads.intake.identity): created (nobody has its
phone or e-mail), attached (a known person: a new lead for them), suspected (a new person who
shares a phone or e-mail with someone else, a household: flagged for review), skipped (the same
person as an earlier line, or a person who already has an open lead for the StudySite) or
rejected (leads.intake.csv.reader).

`plan` decides every row once, when the import is checked: `FileIndex` relates each row to
the earlier rows with its phone or e-mail (only the whole file can say), then one query finds
the organization's people with any of the file's contacts. Just before writing a chunk, the
writer asks `recheck` what changed since: a known person merged or given an open lead for the
study, someone new with a row's phone or e-mail (people added since the check count too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import date

from django.db import connection

from leads.intake.csv.reader import Row
from leads.intake.identity import Who, mismatch_reason, same_person
from leads.models import OPEN_STATUSES, CsvImportRow, Lead, Person
from trialsnest.studies.models import StudySite

Outcome = CsvImportRow.Outcome
# Who a row is compared with, per phone or e-mail: a number a whole clinic shares must not
# make every row compare with thousands. (Exact repeats are found whatever their number.)
CANDIDATES = 20
FLAGGED = "a new person, flagged for review"
NOBODY = "no one with this phone or e-mail"


@dataclass(frozen=True, slots=True)
class Known:
    """A person a row is compared with: one of the organization's, or an earlier line's."""

    id: int | None
    code: str
    who: Who
    line: int | None = None


def contacts(row: Row) -> list[str]:
    return [key for key in (row.person["phone"], row.person["email"]) if key]


class FileIndex:
    """The earlier rows of one file, by phone and e-mail."""

    def __init__(self) -> None:
        # (contact, (first name, last name, date of birth)) -> line: equal names (in any case)
        # and birth dates are the same person by the rule, found without comparing.
        self._exact: dict[tuple[str, tuple[str, str, date | None]], int] = {}
        # contact -> (line, who) of the first CANDIDATES people with it
        self._by_contact: dict[str, list[tuple[int, Who]]] = {}

    def relate(self, row: Row) -> Known | None:
        """Skip the row if an earlier line is the same person; otherwise point
        `row.matched_line` at the first earlier line with its phone or e-mail (someone else),
        and answer who that is."""
        person = row.person
        keys = contacts(row)
        names = (
            person["first_name"].casefold(),
            person["last_name"].casefold(),
            person["date_of_birth"],
        )
        same = None
        for key in keys:
            same = self._exact.get((key, names))
            if same is not None:
                break
        other: tuple[int, Who] | None = None
        who = Who.of(person)
        if same is None:
            for key in keys:
                for line, earlier in self._by_contact.get(key, ()):
                    if same_person(who, earlier):
                        same = line
                        break
                    other = other or (line, earlier)
                if same is not None:
                    break
        canonical = row.line if same is None else same
        for key in keys:
            if (key, names) in self._exact:
                continue
            self._exact[key, names] = canonical
            entries = self._by_contact.setdefault(key, [])
            if len(entries) < CANDIDATES:
                entries.append((canonical, who))
        if same is not None:
            row.outcome, row.matched_line = Outcome.SKIPPED, same
            row.reason = f"duplicate of line {same} in this file"
            return None
        if other is None:
            return None
        row.matched_line = other[0]
        return Known(None, "", other[1], line=other[0])


def known_people(organization_id: int, rows: Iterable[Row]) -> dict[str, list[Known]]:
    """The organization's people with the rows' phones and e-mails, oldest first, by each."""
    phones, emails = set(), set()
    for row in rows:
        if row.person["phone"]:
            phones.add(row.person["phone"])
        if row.person["email"]:
            emails.add(row.person["email"])
    found: dict[str, list[Known]] = {}
    if not phones and not emails:
        return found
    with connection.cursor() as cursor:
        # Arrays, not IN lists: one statement however long the file, on the contact indexes
        # (or one scan of the table, when PostgreSQL finds that cheaper for a large file).
        # Sent as one text each (a checked phone or e-mail has no line break): quicker to
        # send than 100,000 array elements.
        cursor.execute(
            """SELECT id, code, phone, email, first_name, last_name, date_of_birth
               FROM leads_person
               WHERE organization_id = %(org)s AND merged_into_id IS NULL
                 AND phone = ANY(string_to_array(%(phones)s, E'\\n'))
               UNION
               SELECT id, code, phone, email, first_name, last_name, date_of_birth
               FROM leads_person
               WHERE organization_id = %(org)s AND merged_into_id IS NULL
                 AND email = ANY(string_to_array(%(emails)s, E'\\n'))
               ORDER BY id""",
            {"org": organization_id, "phones": "\n".join(phones), "emails": "\n".join(emails)},
        )
        for pk, code, phone, email, first, last, born in cursor.fetchall():
            known = Known(pk, str(code), Who(first, last, born))
            for key in (phone, email):
                if key and len(entries := found.setdefault(key, [])) < CANDIDATES:
                    entries.append(known)
    return found


# A person who has (or, from an earlier line, is getting) an open lead for the StudySite:
# person id -> (the lead's id, how to name it), the id None while the lead is not written.
Busy = dict[int, tuple[int | None, str]]


def open_leads(study_site: StudySite, person_ids: Collection[int | None]) -> Busy:
    ids = {pk for pk in person_ids if pk is not None}
    if not ids:
        return {}
    leads = Lead.objects.filter(
        person_id__in=ids, study_site=study_site, status__in=OPEN_STATUSES
    ).values_list("person_id", "id", "code")
    return {person: (pk, f"lead {code}") for person, pk, code in leads}


def _ids(known: dict[str, list[Known]]) -> set[int | None]:
    return {k.id for entries in known.values() for k in entries}


def plan(rows: list[Row], study_site: StudySite) -> None:
    """Every row's outcome (rejected rows have theirs from the reader)."""
    pending = [row for row in rows if not row.outcome]
    # Only a row with a phone or e-mail another row has can be related to an earlier one.
    seen = Counter(key for row in pending for key in contacts(row))
    index, file_matches = FileIndex(), {}
    for row in pending:
        if any(seen[key] > 1 for key in contacts(row)) and (match := index.relate(row)):
            file_matches[row.line] = match
    pending = [row for row in pending if not row.outcome]
    known = known_people(study_site.organization_id, pending)
    busy = open_leads(study_site, _ids(known))
    for row in pending:
        match = file_matches.get(row.line)
        if match is None and not any(key in known for key in contacts(row)):
            row.outcome, row.reason = Outcome.CREATED, NOBODY  # most rows of most lists
        else:
            decide(row, known=known, busy=busy, file_match=match)


class Newcomers:
    """The organization's people added since the rows were checked (newer than person id
    `after`), other than the import's own (`ours`). Ids only grow, so each `found` reads just
    the people added since the one before: a chunk costs the people of one chunk, not all."""

    def __init__(self, organization_id: int, after: int, ours: Collection[int]) -> None:
        self.organization_id, self.after, self.ours = organization_id, after, ours
        self.by_contact: dict[str, list[Known]] = {}

    def found(self) -> dict[str, list[Known]]:
        added = Person.objects.filter(
            organization_id=self.organization_id, pk__gt=self.after, merged_into=None
        )
        ids = list(added.values_list("pk", flat=True))  # mostly the import's own: ids only
        self.after = max(ids, default=self.after)
        others = [pk for pk in ids if pk not in self.ours]
        people = Person.objects.filter(pk__in=others).values_list(
            "pk", "code", "phone", "email", "first_name", "last_name", "date_of_birth"
        )
        for pk, code, phone, email, first, last, born in people if others else ():
            known = Known(pk, str(code), Who(first, last, born))
            for key in (phone, email):
                if key and len(entries := self.by_contact.setdefault(key, [])) < CANDIDATES:
                    entries.append(known)
        return self.by_contact


def recheck(rows: list[Row], *, study_site: StudySite, newcomers: Newcomers) -> None:
    """Bring a chunk's outcomes up to date before it is written: a known person merged into
    another since the check is the other; one who has an open lead for the study now is
    skipped; a new row is weighed, by the same rule, against the people added since the check
    with its phone or e-mail."""
    attached = [r for r in rows if r.outcome == Outcome.ATTACHED]
    merged = {
        pk: (survivor, code)
        for pk, survivor, code in Person.objects.filter(
            pk__in=[r.person_id for r in attached], merged_into__isnull=False
        ).values_list("pk", "merged_into_id", "merged_into__code")
    }
    for row in attached:
        if row.person_id in merged:
            row.person_id, code = merged[row.person_id]
            row.matched_person_id, row.reason = row.person_id, f"known person {code} (merged)"
    busy = open_leads(study_site, [r.person_id for r in attached])
    for row in attached:
        if row.person_id in busy:
            row.matched_lead_id, name = busy[row.person_id]
            row.outcome, row.person_id, row.lead_id = Outcome.SKIPPED, None, None
            row.reason = f"already has an open lead for this study ({name})"
    found = newcomers.found()
    new = [
        r
        for r in rows
        if r.outcome in (Outcome.CREATED, Outcome.SUSPECTED)
        and any(key in found for key in contacts(r))
    ]
    if not new:
        return
    known = {key: found[key] for row in new for key in contacts(row) if key in found}
    busy = open_leads(study_site, _ids(known))
    for row in new:
        trial = replace(row, outcome="", matched_person_id=None, matched_lead_id=None)
        decide(trial, known=known, busy=busy, file_match=None)
        # A lookalike added since does not undo a suspicion the check already raised.
        if trial.outcome == Outcome.SUSPECTED and row.outcome == Outcome.SUSPECTED:
            continue
        row.outcome, row.reason = trial.outcome, trial.reason
        row.matched_person_id, row.matched_lead_id = trial.matched_person_id, trial.matched_lead_id
        if trial.outcome == Outcome.ATTACHED:
            row.person_id = trial.person_id
        elif trial.outcome == Outcome.SKIPPED:
            row.person_id = row.lead_id = None


def decide(
    row: Row, *, known: dict[str, list[Known]], busy: Busy, file_match: Known | None
) -> None:
    """The outcome of a row that is neither rejected nor a repeat of an earlier line, and for
    an attached one the person (`person_id`).

    `known`: the organization's people by contact; `busy`: who has an open lead (updated
    here for the rows that follow); `file_match`: the earlier line with the row's phone or
    e-mail, someone else (FileIndex.relate).
    """
    who = Who.of(row.person)
    seen: set[int | None] = set()
    candidates = []
    for key in contacts(row):
        for candidate in known.get(key, ()):
            if candidate.id not in seen:
                seen.add(candidate.id)
                candidates.append(candidate)
    same = next((c for c in candidates if same_person(who, c.who)), None)
    if same is not None and same.id is not None:
        row.matched_person_id = same.id
        if same.id in busy:
            row.matched_lead_id, name = busy[same.id]
            row.outcome = Outcome.SKIPPED
            row.reason = f"already has an open lead for this study ({name})"
            return
        row.outcome, row.person_id = Outcome.ATTACHED, same.id
        row.reason = f"known person {same.code}"
        busy[same.id] = (None, f"from line {row.line} of this file")
        return
    # Someone else: the organization's person first (they exist), else the earlier line.
    other = candidates[0] if candidates else file_match
    if other is None:
        row.outcome, row.reason = Outcome.CREATED, NOBODY
        return
    row.outcome = Outcome.SUSPECTED
    row.matched_person_id = other.id
    where = f"line {other.line} of this file" if other.line else f"person {other.code}"
    row.reason = f"{mismatch_reason(who, other.who)} ({where}): {FLAGGED}"


def summary(rows: Iterable[Row]) -> dict[str, int]:
    counts = dict.fromkeys(Outcome.values, 0)
    for row in rows:
        counts[row.outcome] += 1
    return counts
