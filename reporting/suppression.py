"""The small-cell rule for everything a sponsor can reach (as CMS applies it to its data).

A table is a set of cells and the sums that hold between them (a column's cells add up to its
total). Every count from 1 to 10 is hidden ("<11"); then, while any hidden cell could still be
worked out from the shown cells through those sums, one more cell of such a sum is hidden (the
smallest, a total last). The check is exact linear algebra over the rationals, so no
combination of shown totals and cells gives a hidden value back.

Differencing two filter settings is closed off by what sponsors may filter on: a study, and
within it whole StudySites, whose rows are cells of the same table (the all-sites row is its
total). No date range is offered: the trend is whole weeks, cells of the same system, with an
"earlier" row so the weeks add up to the study total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

SMALL = range(1, 11)
# Every hidden cell looks the same: were a complementary cell told apart from a small one, its
# known range (0, or 11 and more) would pin the small one down (a sum of 12 = 1 + 11).
HIDDEN = "<11*"
LEGEND = "<11* : a count from 1 to 10, or a count hidden with one so it cannot be worked out."


@dataclass(frozen=True)
class Sum:
    """cells[parts] add up to cells[total]."""

    total: int
    parts: tuple[int, ...]


def suppress(values: Sequence[int], sums: Sequence[Sum]) -> set[int]:
    """The indices of `values` to hide."""
    hidden = {i for i, v in enumerate(values) if v in SMALL}
    totals = {s.total for s in sums}
    while True:
        exposed = derivable(len(values), hidden, sums)
        if not exposed:
            return hidden
        cell = min(exposed)
        # Hide one more member of a sum the exposed cell is in: the smallest shown one.
        candidates = [
            j
            for s in sums
            if cell == s.total or cell in s.parts
            for j in (s.total, *s.parts)
            if j not in hidden
        ]
        if not candidates:  # cannot happen: a derivable cell is in a sum with a shown member
            raise AssertionError("no complementary cell")
        hidden.add(min(candidates, key=lambda j: (j in totals, values[j], j)))


def derivable(n: int, hidden: set[int], sums: Sequence[Sum]) -> set[int]:
    """The hidden cells whose value follows from the shown ones through `sums`."""
    order = sorted(hidden)
    col = {cell: k for k, cell in enumerate(order)}
    rows: list[list[Fraction]] = []
    for s in sums:
        row = [Fraction(0)] * len(order)
        if s.total in col:
            row[col[s.total]] -= 1
        for p in s.parts:
            if p in col:
                row[col[p]] += 1
        if any(row):
            rows.append(row)
    basis = _row_reduce(rows, len(order))
    exposed = set()
    for cell, k in col.items():
        if _in_span(basis, k, len(order)):
            exposed.add(cell)
    return exposed


def _row_reduce(rows: list[list[Fraction]], width: int) -> list[tuple[int, list[Fraction]]]:
    """Reduced row echelon form as (pivot column, row) pairs."""
    basis: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        row = row[:]
        for pivot, b in basis:
            if row[pivot]:
                factor = row[pivot]
                row = [x - factor * y for x, y in zip(row, b, strict=True)]
        lead = next((k for k in range(width) if row[k]), None)
        if lead is None:
            continue
        scale = row[lead]
        row = [x / scale for x in row]
        reduced = []
        for pivot, b in basis:
            if b[lead]:
                factor = b[lead]
                b = [x - factor * y for x, y in zip(b, row, strict=True)]
            reduced.append((pivot, b))
        basis = [*reduced, (lead, row)]
    return basis


def _in_span(basis: list[tuple[int, list[Fraction]]], k: int, width: int) -> bool:
    """Is the unit vector e_k a combination of the basis rows?"""
    target = [Fraction(0)] * width
    target[k] = Fraction(1)
    for pivot, b in basis:
        if target[pivot]:
            factor = target[pivot]
            target = [x - factor * y for x, y in zip(target, b, strict=True)]
    return not any(target)


def shown(value: int, index: int, hidden: set[int]) -> str:
    """A cell as a sponsor sees it."""
    return HIDDEN if index in hidden else str(value)
