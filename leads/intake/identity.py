"""Is this the same human? The one rule every door (web form, API, CSV, merge suggestions) uses.

Households share phones and e-mail addresses, so a shared contact is not proof of identity:
attaching a new person's interest to the wrong human mixes two people's health information and
consent. A contact match is the same person only when nothing about them disagrees:

- both dates of birth known: they decide (equal: same person, whatever the spelling of the name);
- otherwise the names must be compatible: the same first name (or one is the other's initial or
  a close spelling), and the same last name when both are given.

A contact match that fails the rule becomes a new person flagged as a suspected duplicate, for a
human to review (leads.models.SuspectedDuplicate).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

SIMILAR = 0.8


@dataclass(frozen=True)
class Who:
    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None

    @classmethod
    def of(cls, person: Any) -> Who:
        """From a Person or a dict of its fields."""

        def get(name: str) -> Any:
            return person.get(name) if isinstance(person, dict) else getattr(person, name, None)

        born = get("date_of_birth") or None
        if isinstance(born, str):
            try:
                born = date.fromisoformat(born)
            except ValueError:
                born = None  # the door's own validation reports it
        return cls(get("first_name") or "", get("last_name") or "", born)


def fold(name: str) -> str:
    """Lower case without accents, punctuation or extra spaces: "José-Luis " → "jose luis"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.split())


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:  # an initial
        return a[0] == b[0]
    return SequenceMatcher(None, a, b).ratio() >= SIMILAR


def names_compatible(a: Who, b: Who) -> bool:
    first_a, first_b = fold(a.first_name), fold(b.first_name)
    last_a, last_b = fold(a.last_name), fold(b.last_name)
    if not first_a or not first_b:
        return True  # nothing to compare: a nameless row says nothing against
    if not _close(first_a.split()[0], first_b.split()[0]) and not _close(first_a, first_b):
        return False
    return not (last_a and last_b) or _close(last_a, last_b)


def same_person(incoming: Who, known: Who) -> bool:
    """Whether a contact match between these two is the same human (see the module docstring)."""
    if incoming.date_of_birth and known.date_of_birth:
        return incoming.date_of_birth == known.date_of_birth
    return names_compatible(incoming, known)


def mismatch_reason(incoming: Who, known: Who) -> str:
    """Why a contact match is not taken as the same person, for the reviewer."""
    if incoming.date_of_birth and known.date_of_birth:
        return "shares a phone or e-mail with a person born on another date"
    return "shares a phone or e-mail with a person of another name"
