"""The hand-written North American fast path of e164() says what phonenumbers itself says."""

from __future__ import annotations

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trialsnest.lib.phones import e164


def reference(raw: str, region: str = "US") -> str | None:
    """phonenumbers alone, with e164()'s contract: "" when empty, None when not valid."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


FORMATS = [
    "({a}) {e}-{l}",
    "{a}-{e}-{l}",
    "{a}.{e}.{l}",
    "{a}{e}{l}",
    "1{a}{e}{l}",
    "1-{a}-{e}-{l}",
    "+1 {a} {e} {l}",
    "+1({a}){e}-{l}",
    " {a} {e} {l} ",
]


@settings(max_examples=2000)
@given(
    area=st.integers(min_value=0, max_value=999),
    exchange=st.integers(min_value=0, max_value=999),
    line=st.integers(min_value=0, max_value=9999),
    layout=st.sampled_from(FORMATS),
)
@example(area=312, exchange=555, line=100, layout="({a}) {e}-{l}")  # a fictional 555 number
@example(area=312, exchange=263, line=142, layout="+1 {a} {e} {l}")
def test_every_north_american_layout_matches_phonenumbers(area, exchange, line, layout):
    raw = layout.format(a=f"{area:03d}", e=f"{exchange:03d}", l=f"{line:04d}")
    assert e164(raw) == reference(raw), raw


# No deadline: the first example loads phonenumbers' metadata, which took 1.3 s on a busy run.
@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789 ()-.+x#*", max_size=20))
@example("3125550100x")
@example("+44 20 7946 0958")
def test_any_text_of_phone_characters_matches_phonenumbers(raw):
    assert e164(raw) == reference(raw), raw


@given(st.text(alphabet="0123456789 ()-.+", min_size=1, max_size=20))
def test_numbers_from_outside_north_america_go_to_the_parser(raw):
    assert e164(f"+49 {raw}") == reference(f"+49 {raw}")
