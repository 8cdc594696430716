"""Blanking an erased person's lines in an import's original file: their cells go, everyone
else's lines and line numbers stay (a quoted cell over several lines too), and a second pass
changes nothing."""

from __future__ import annotations

import pytest

from leads.intake.csv.reader import read_rows
from leads.intake.csv.scrub import blank_lines, import_file_forget, import_lines_erase
from leads.intake.csv.services import csv_import_upload
from tests.conftest import World
from trialsnest.audit.services import Actor
from trialsnest.ops.models import OutboxMessage

FILE = (
    "name,phone,notes\r\n"
    'Ana Ortega,+13125550100,"calls after 5\nprefers Spanish"\r\n'
    'Qz Canary,+13125550177,"two\nlines"\r\n'
    "Bo Li,+13125550102,\r\n"
)


def test_the_persons_record_is_blanked_and_the_others_keep_their_lines():
    before = dict(read_rows(FILE)[1])
    assert sorted(before) == [3, 5, 6]  # the line each record ends on

    text, blanked = blank_lines(FILE, {5})

    assert blanked == 1
    assert "Qz" not in text
    assert "5550177" not in text
    after = dict(read_rows(text)[1])
    assert after == {3: before[3], 6: before[6]}  # the blank record is no row at all
    assert blank_lines(text, {5}) == (text, 0)


def test_a_semicolon_file_stays_a_semicolon_file():
    text, blanked = blank_lines("a;b\n1;2\n3;4\n", {2})
    assert (text, blanked) == ("a;b\n;\n3;4\n", 1)


@pytest.mark.django_db
def test_the_replaced_file_is_deleted_by_its_own_task_even_after_a_worker_died(world: World):
    """The new file and the task deleting the old one commit together: a worker killed after
    the commit leaves the outbox entry, and running it (again) deletes the old file only."""
    imp = csv_import_upload(
        data=FILE.encode(), filename="vendor.csv", study_site=world.study_site_a,
        source="vendor_list", campaign="", actor=Actor(world.site_lead.user),
    )  # fmt: skip
    old = str(imp.file.name)
    storage = imp.file.storage

    assert import_lines_erase(import_id=imp.pk, lines=[5]) == 1  # its on-commit send never runs

    imp.refresh_from_db()
    assert imp.file.name != old
    assert storage.exists(old)  # the worker "died" before the old file went
    (queued,) = OutboxMessage.objects.filter(task="leads.tasks.forget_replaced_import_file")
    assert queued.args == [imp.pk, old]
    assert import_file_forget(import_id=imp.pk, name=old) is True
    assert not storage.exists(old)
    assert import_file_forget(import_id=imp.pk, name=old) is False  # twice is safe
    live = str(imp.file.name)
    assert import_file_forget(import_id=imp.pk, name=live) is False  # never the live one
    with imp.file.open("rb") as handle:
        assert b"Qz Canary" not in handle.read()
