"""Blanking an erased person's lines in an import's original file: their cells go, everyone
else's lines and line numbers stay (a quoted cell over several lines too), and a second pass
changes nothing."""

from __future__ import annotations

from leads.intake.csv.reader import read_rows
from leads.intake.csv.scrub import blank_lines

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
