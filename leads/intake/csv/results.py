"""What an import's pages and downloads read: its stored rows, a page at a time or by outcome
as a CSV file. Never the original file: the worker read that once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from leads.models import CsvImport, CsvImportRow
from trialsnest.lib.text import safe_cell

Outcome = CsvImportRow.Outcome
PAGE_ROWS = 100
DOWNLOAD_BATCH = 5_000


def rows_page(
    imp: CsvImport, *, outcome: str = "", after: int = 0, limit: int = PAGE_ROWS
) -> list[CsvImportRow]:
    """The rows after line `after`, in file order (keyset: as fast on the last page as on the
    first), of one outcome or all."""
    rows = CsvImportRow.objects.filter(csv_import=imp, line__gt=after)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return list(rows.order_by("line").only("line", "outcome", "reason", "cells")[:limit])


def bucket_csv(imp: CsvImport, outcome: str) -> Iterator[str]:
    """The rows of one outcome as CSV text, a line at a time: the line number and the reason
    first, then the file's own columns (a short row stays under its own headers)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow([safe_cell(h) for h in ["line", "reason", *imp.header]])
    yield flush()
    after = 0
    while True:
        batch = list(
            CsvImportRow.objects.filter(csv_import=imp, outcome=outcome, line__gt=after)
            .order_by("line")
            .values_list("line", "reason", "cells")[:DOWNLOAD_BATCH]
        )
        for line, reason, cells in batch:
            writer.writerow([line, safe_cell(reason), *(safe_cell(c) for c in cells)])
        if batch:
            yield flush()
        if len(batch) < DOWNLOAD_BATCH:
            return
        after = batch[-1][0]
