"""Erasing a person's lines from the original file an import keeps.

The file holds other people too, so it is rewritten with the given lines blanked: each cell
of those records emptied and the record kept at its place, over as many physical lines as
before (a quoted cell with line breaks), so the line numbers the import's rows refer to stay
true for everyone else. The other records are written back cell for cell (csv may quote them
differently; their values do not change). The new file replaces the old, which a task queued
in the same transaction deletes.
Blanking a blank line changes nothing, so running it twice is safe.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Collection

from django.core.files.base import ContentFile
from django.db import transaction

from leads.intake.csv.reader import decode, dialect_of
from leads.models import CsvImport
from trialsnest.ops.outbox import enqueue

logger = logging.getLogger(__name__)
FORGET_TASK = "leads.tasks.forget_replaced_import_file"


def blank_lines(text: str, lines: Collection[int]) -> tuple[str, int]:
    """The text with the records ending on `lines` blanked; (new text, records blanked)."""
    delimiter = dialect_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    blanked, previous_end = 0, 0
    for cells in reader:
        end = reader.line_num
        if end in lines and "".join(cells).strip():
            spans = end - previous_end  # physical lines this record took
            writer.writerow(["\n" * (spans - 1), *[""] * (len(cells) - 1)])
            blanked += 1
        else:
            writer.writerow(cells)
        previous_end = end
    return out.getvalue(), blanked


def import_lines_erase(*, import_id: int, lines: list[int]) -> int:
    """Blank these lines of the import's original file; returns how many records changed."""
    with transaction.atomic():
        imp = CsvImport.objects.select_for_update().filter(pk=import_id).first()
        if imp is None or not imp.file or not imp.file.name:
            return 0
        old = str(imp.file.name)
        with imp.file.open("rb") as handle:
            text = decode(handle.read())
        new_text, blanked = blank_lines(text, set(lines))
        if not blanked:
            return 0
        imp.file.save(old.rsplit("/", 1)[-1], ContentFile(new_text.encode()), save=False)
        imp.save(update_fields=["file"])
        # The old file goes by a task of its own, kept with this change: a worker that dies
        # after the commit leaves that task, not the erased person's lines, behind.
        enqueue(FORGET_TASK, import_id, old)
    logger.info("Erased %d line(s) of import %s's original file", blanked, import_id)
    return blanked


def import_file_forget(*, import_id: int, name: str) -> bool:
    """Delete a file an erasure replaced; never the import's current one. Safe to run twice."""
    imp = CsvImport.objects.filter(pk=import_id).first()
    if imp is None or name == imp.file.name:
        return False
    storage = CsvImport._meta.get_field("file").storage
    if not storage.exists(name):
        return False
    storage.delete(name)
    return True
