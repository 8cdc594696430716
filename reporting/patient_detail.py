"""What in a site lead's own sentences looks like patient detail, before a sponsor reads them:
names of the organization's people, phone numbers, e-mail addresses and dates of birth.

Each finding is a reason to show next to the text ("a phone number: (312) 555-0142"). The check
leans to refusing: a date that could be a birth date, or two words that are a person's first and
last name, are refused even when they were meant otherwise; the site lead rewords.
"""

from __future__ import annotations

import itertools
import re
from datetime import date

import phonenumbers
from django.db.models import Q

from leads.models import Person
from trialsnest.accounts.models import User

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
DATES = (
    re.compile(r"\b(1[89]\d\d|20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})\b"),  # 1970-03-14
    re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](1[89]\d\d|20\d\d)\b"),  # 03/14/1970
    re.compile(rf"\b(?:{_MONTHS})[a-z]*\.? \d{{1,2}},? (1[89]\d\d|20\d\d)\b", re.I),
    re.compile(rf"\b\d{{1,2}} (?:{_MONTHS})[a-z]* (1[89]\d\d|20\d\d)\b", re.I),
)
WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")  # names with apostrophes and hyphens
MAX_PAIRS = 300  # word pairs looked up per text; an update is a few sentences


def findings(text: str, *, organization_id: int, today: date | None = None) -> list[str]:
    """Reasons this text may not go to a sponsor (none: it may)."""
    today = today or date.today()
    found = [f"an e-mail address: {m.group()}" for m in EMAIL.finditer(text)]
    for match in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID):
        found.append(f"a phone number: {match.raw_string}")
    for pattern in DATES:
        for m in pattern.finditer(text):
            year = int(next(g for g in reversed(m.groups()) if g and len(g) == 4) or 0)
            if year <= today.year - 5:  # old enough to be somebody's birth date
                found.append(f"what may be a date of birth: {m.group()}")
    found += [f"a name: {name}" for name in _names(text, organization_id)]
    return found


def _names(text: str, organization_id: int) -> list[str]:
    """Adjacent words that are the first and last name of one of the organization's people
    (the persons its leads are about, or its members)."""
    words = [w.group() for w in WORD.finditer(text)]
    pairs = {(a.lower(), b.lower()): f"{a} {b}" for a, b in itertools.pairwise(words)}
    pairs = dict(list(pairs.items())[:MAX_PAIRS])
    if not pairs:
        return []
    wanted = Q()
    for first, last in pairs:
        wanted |= Q(first_name__iexact=first, last_name__iexact=last)
    people = Person.objects.filter(wanted, organization_id=organization_id)
    members = User.objects.filter(wanted, memberships__organization_id=organization_id)
    known = {
        (first.lower(), last.lower())
        for query in (people, members)
        for first, last in query.values_list("first_name", "last_name")[:20]
    }
    return [shown for key, shown in pairs.items() if key in known]
