"""The small-cell rule: no shown count from 1 to 10, and no hidden count derivable from what is
shown (checked here by brute force over the integers, independently of the module's algebra)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.suppression import SMALL, Sum, suppress


def table(cells: list[list[int]]) -> tuple[list[int], list[Sum], int]:
    """rows x columns cells plus a total row: values, sums, number of rows."""
    values = [v for row in cells for v in row]
    width = len(cells[0])
    sums = []
    for k in range(width):
        total = sum(row[k] for row in cells)
        values.append(total)
        sums.append(Sum(len(values) - 1, tuple(r * width + k for r in range(len(cells)))))
    return values, sums, len(cells)


def consistent_values(values, hidden, sums, cell, limit):
    """Every value the hidden `cell` can take, over integer fillings of the hidden cells up to
    `limit`, that keep every sum true (what a reader could work out at best)."""
    order = sorted(hidden)
    found = set()
    for guess in itertools.product(range(limit + 1), repeat=len(order)):
        filled = list(values)
        for i, v in zip(order, guess, strict=True):
            filled[i] = v
        if all(filled[s.total] == sum(filled[p] for p in s.parts) for s in sums):
            found.add(filled[cell])
            if len(found) > 1:
                return found
    return found


small_tables = st.integers(1, 3).flatmap(
    lambda rows: st.integers(1, 2).flatmap(
        lambda cols: st.lists(
            st.lists(st.sampled_from([0, 1, 2, 5, 10, 11, 12, 15]), min_size=cols, max_size=cols),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(small_tables)
def test_no_small_count_is_shown_and_no_hidden_one_can_be_worked_out(cells):
    values, sums, _ = table(cells)
    hidden = suppress(values, sums)
    assert not [v for i, v in enumerate(values) if i not in hidden and v in SMALL]
    if len(hidden) > 5:
        return  # brute force gets too slow; the algebra is checked on the smaller ones
    limit = max(values) + 1
    for cell in hidden:
        assert len(consistent_values(values, hidden, sums, cell, limit)) > 1, (cells, hidden)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=6, max_size=6), min_size=1, max_size=12))
def test_large_tables_never_show_a_small_count_nor_leave_one_hidden_cell_alone_in_a_sum(cells):
    values, sums, _ = table(cells)
    hidden = suppress(values, sums)
    assert not [v for i, v in enumerate(values) if i not in hidden and v in SMALL]
    for s in sums:
        members = [s.total, *s.parts]
        assert sum(1 for m in members if m in hidden) != 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=2, max_size=6),
    st.integers(0, 5),
)
def test_two_filter_settings_differenced_give_nothing_away(site_counts, dropped):
    """A sponsor filtering to some sites sees rows of the one table (the same cells, the same
    suppression), so "all sites" minus "all but one" is the hidden row's own suppressed cell."""
    cells = [[c] for c in site_counts]
    values, sums, rows = table(cells)
    hidden = suppress(values, sums)
    dropped %= rows
    if dropped in hidden:
        # the total and the other rows are shown only where that cannot pin the dropped row
        others_shown = all(r not in hidden for r in range(rows) if r != dropped)
        assert not (others_shown and rows not in hidden)
