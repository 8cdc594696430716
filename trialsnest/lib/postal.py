"""Postal codes checked against the country of the site they are for.

A small table of the countries sites are in (Site.country is free text, so common spellings
are accepted); any other country gets a basic sanity check only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class PostalFormat:
    pattern: re.Pattern[str]
    message: StrOrPromise
    # Where a space goes, counted from the end ("K1A0B1" → "K1A 0B1"), if the format has one.
    space_before_last: int = 0


_ZIP = PostalFormat(re.compile(r"\d{5}(-\d{4})?"), _("Enter a ZIP code, such as 60601."))
FORMATS: dict[str, PostalFormat] = {
    "US": _ZIP,
    "PR": _ZIP,
    "CA": PostalFormat(
        re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d"),
        _("Enter a postal code such as K1A 0B1."),
        space_before_last=3,
    ),
    "MX": PostalFormat(re.compile(r"\d{5}"), _("Enter a 5-digit postal code, such as 06600.")),
    "ES": PostalFormat(
        re.compile(r"(0[1-9]|[1-4]\d|5[0-2])\d{3}"),
        _("Enter a 5-digit postal code, such as 28001."),
    ),
    "GB": PostalFormat(
        re.compile(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"),
        _("Enter a postcode such as SW1A 1AA."),
        space_before_last=3,
    ),
}
BASIC = PostalFormat(
    re.compile(r"[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]"),
    _("Enter a postal code of 3 to 10 letters and digits."),
)
COUNTRIES = {
    **dict.fromkeys(("us", "usa", "u.s.", "u.s.a.", "united states"), "US"),
    "united states of america": "US",
    **dict.fromkeys(("pr", "puerto rico"), "PR"),
    **dict.fromkeys(("ca", "canada"), "CA"),
    **dict.fromkeys(("mx", "mexico", "méxico"), "MX"),
    **dict.fromkeys(("es", "spain", "españa"), "ES"),
    **dict.fromkeys(("gb", "uk", "united kingdom", "great britain"), "GB"),
}


def country_code(country: str) -> str:
    """The ISO code of a country as sites spell it ("USA", "United States"), or "" if unknown."""
    return COUNTRIES.get(" ".join(country.lower().split()), "")


def postal_format(country: str) -> PostalFormat:
    return FORMATS.get(country_code(country), BASIC)


def normalize_postal_code(value: str, country: str) -> str:
    """Upper case with single spaces, checked for `country`; "" stays "". A ValidationError says
    what a code of that country looks like."""
    value = " ".join(value.split()).upper()
    if not value:
        return ""
    rule = postal_format(country)
    if rule.space_before_last and " " not in value:
        value = f"{value[: -rule.space_before_last]} {value[-rule.space_before_last :]}"
    if not rule.pattern.fullmatch(value):
        raise ValidationError(rule.message, code="invalid")
    return value
