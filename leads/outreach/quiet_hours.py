"""Quiet hours: no message before 08:00 or after 21:00 where the recipient is.

Where they are comes from their postal code (a US ZIP code, through the `zipcodes` package's
table; no network). Without one the table knows, the zones they may be in are the site's and
the one their phone number's area code suggests (phonenumbers' table), and a message goes only
when it is daytime in all of them: the stricter window.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

import phonenumbers
import zipcodes
from phonenumbers import timezone as phone_timezones

OPENS = time(8, 0)
CLOSES = time(21, 0)


@lru_cache(maxsize=4096)
def zone_of_postal_code(postal_code: str) -> str:
    """The IANA zone of a US ZIP code ("" when the table does not know it)."""
    digits = postal_code.strip()[:5]
    if len(digits) != 5 or not digits.isdigit():
        return ""
    try:
        found: list[dict[str, object]] = zipcodes.matching(digits)  # type: ignore[no-untyped-call]
    except (TypeError, ValueError):
        return ""
    zone = str(found[0].get("timezone") or "") if found else ""
    return zone if zone in zoneinfo.available_timezones() else ""


@lru_cache(maxsize=4096)
def zones_of_phone(phone: str) -> tuple[str, ...]:
    """The zones a phone number's prefix suggests (none for a mobile of unknown place)."""
    try:
        number = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_timezones.time_zones_for_number(number)
    return tuple(z for z in zones if z in zoneinfo.available_timezones())


def recipient_zones(*, postal_code: str, phone: str, site_zone: str) -> tuple[str, ...]:
    """Every zone the recipient may be in: their ZIP code's, else the site's and their phone's."""
    zone = zone_of_postal_code(postal_code) if postal_code else ""
    if zone:
        return (zone,)
    zones = {site_zone, *zones_of_phone(phone)} - {""}
    return tuple(sorted(zones)) or ("UTC",)


def is_daytime(at: datetime, zone: str) -> bool:
    local = at.astimezone(zoneinfo.ZoneInfo(zone)).time()
    return OPENS <= local < CLOSES


def window_opens(at: datetime, zones: tuple[str, ...]) -> datetime | None:
    """None when a message may go at `at`; else the first moment it may (daytime in every zone).

    That moment is `at` or an 08:00 in one of the zones, so only those are tried.
    """
    if all(is_daytime(at, zone) for zone in zones):
        return None
    candidates = []
    for zone in zones:
        tz = zoneinfo.ZoneInfo(zone)
        day = at.astimezone(tz).date()
        for ahead in range(3):
            opening = datetime.combine(day + timedelta(days=ahead), OPENS, tzinfo=tz)
            if opening > at:
                candidates.append(opening.astimezone(UTC))
    for candidate in sorted(candidates):
        if all(is_daytime(candidate, zone) for zone in zones):
            return candidate
    # Zones too far apart to share a daytime hour: the latest one's morning.
    return max(candidates)
