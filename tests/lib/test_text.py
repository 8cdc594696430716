"""The house rules for typed text and postal codes, in one home for every door."""

from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import ValidationError

from trialsnest.lib.postal import normalize_postal_code
from trialsnest.lib.text import (
    MULTILINE_ALLOWED,
    NOTE_MAX,
    check_text,
    has_control_characters,
    text_problem,
)


@pytest.mark.parametrize(
    "text", ["Ana\x1b[2J", "Be\x07ll", "Nul\x00", "Tab\there", "Line\nbreak", "\x7fdel", "\ud800"]
)
def test_a_single_line_refuses_every_control_character(text: str):
    assert has_control_characters(text)
    assert "control characters" in str(text_problem(text, max_length=100))


def test_multi_line_text_keeps_tabs_and_line_breaks_but_not_escape():
    assert not has_control_characters("Called twice,\r\n\tno answer", multiline=True)
    assert has_control_characters("Called \x1b[31mtwice", multiline=True)


def test_names_from_everywhere_are_plain_text():
    for name in ("José", "Nguyễn", "O'Brien-Smith", "Zoë", "李"):
        assert text_problem(name, max_length=100) is None


def test_too_long_text_says_the_limit_and_the_length():
    message = str(text_problem("x" * (NOTE_MAX + 1), max_length=NOTE_MAX, multiline=True))

    assert message == "Shorten this to 5000 characters or fewer (it has 5001)."


def test_a_service_check_names_the_field():
    with pytest.raises(ValidationError) as refusal:
        check_text("x" * 501, field="reason", max_length=500)

    assert refusal.value.message_dict == {
        "reason": ["Shorten this to 500 characters or fewer (it has 501)."]
    }
    assert check_text("fine", field="reason", max_length=500) == "fine"


@pytest.mark.parametrize(
    ("code", "country", "normal"),
    [
        ("60601", "United States", "60601"),
        (" 60601-1234 ", "USA", "60601-1234"),
        ("00901", "Puerto Rico", "00901"),
        ("k1a0b1", "Canada", "K1A 0B1"),
        ("06600", "México", "06600"),
        ("28001", "Spain", "28001"),
        ("sw1a 1aa", "United Kingdom", "SW1A 1AA"),
        ("75008", "France", "75008"),  # not in the table: basic sanity only
        ("", "United States", ""),
    ],
)
def test_postal_codes_of_the_sites_countries_are_accepted_and_normalised(
    code: str, country: str, normal: str
):
    assert normalize_postal_code(code, country) == normal


@pytest.mark.parametrize(
    ("code", "country", "message"),
    [
        ("K1A 0B1", "United States", "Enter a ZIP code, such as 60601."),
        ("6060", "United States", "Enter a ZIP code, such as 60601."),
        ("60601", "Canada", "Enter a postal code such as K1A 0B1."),
        ("99999", "Spain", "Enter a 5-digit postal code, such as 28001."),
        ("!!", "France", "Enter a postal code of 3 to 10 letters and digits."),
        ("1234567890123", "", "Enter a postal code of 3 to 10 letters and digits."),
    ],
)
def test_a_postal_code_wrong_for_its_country_says_what_one_looks_like(
    code: str, country: str, message: str
):
    with pytest.raises(ValidationError) as refusal:
        normalize_postal_code(code, country)

    assert refusal.value.messages == [message]


def test_control_characters_are_exactly_unicodes_cc_and_cs() -> None:
    # Every code point, against the category rule the expressions stand for.
    for multiline in (False, True):
        allowed = MULTILINE_ALLOWED if multiline else frozenset()
        wrong = [
            hex(point)
            for point in range(0x110000)
            if has_control_characters(chr(point), multiline=multiline)
            != (unicodedata.category(chr(point)) in ("Cc", "Cs") and chr(point) not in allowed)
        ]
        assert wrong == []
    assert has_control_characters("Pat\x1b[2J")
    assert not has_control_characters("Zoë Ñúñez")
    assert has_control_characters("a\tb")
    assert not has_control_characters("a\tb\r\n", multiline=True)
