"""Time zones: the list a site's zone is picked from, and the one its address suggests.

The list is the IANA database as `zoneinfo` sees it. The suggestion is a small table of the
countries sites are in (the ones trialsnest/lib/postal.py knows), per state or province where
a country has several zones. A state that spans two zones gets the zone most of its people
live in: it is a suggestion for a human to check, never a silent default.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from trialsnest.lib.postal import country_code

_NEW_YORK, _CHICAGO, _DENVER, _LOS_ANGELES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)

# (USPS code, name, zone)
US_STATES: list[tuple[str, str, str]] = [
    ("AL", "Alabama", _CHICAGO), ("AK", "Alaska", "America/Anchorage"),
    ("AZ", "Arizona", "America/Phoenix"), ("AR", "Arkansas", _CHICAGO),
    ("CA", "California", _LOS_ANGELES), ("CO", "Colorado", _DENVER),
    ("CT", "Connecticut", _NEW_YORK), ("DE", "Delaware", _NEW_YORK),
    ("DC", "District of Columbia", _NEW_YORK), ("FL", "Florida", _NEW_YORK),
    ("GA", "Georgia", _NEW_YORK), ("HI", "Hawaii", "Pacific/Honolulu"),
    ("ID", "Idaho", "America/Boise"), ("IL", "Illinois", _CHICAGO),
    ("IN", "Indiana", "America/Indiana/Indianapolis"), ("IA", "Iowa", _CHICAGO),
    ("KS", "Kansas", _CHICAGO), ("KY", "Kentucky", _NEW_YORK),
    ("LA", "Louisiana", _CHICAGO), ("ME", "Maine", _NEW_YORK),
    ("MD", "Maryland", _NEW_YORK), ("MA", "Massachusetts", _NEW_YORK),
    ("MI", "Michigan", "America/Detroit"), ("MN", "Minnesota", _CHICAGO),
    ("MS", "Mississippi", _CHICAGO), ("MO", "Missouri", _CHICAGO),
    ("MT", "Montana", _DENVER), ("NE", "Nebraska", _CHICAGO),
    ("NV", "Nevada", _LOS_ANGELES), ("NH", "New Hampshire", _NEW_YORK),
    ("NJ", "New Jersey", _NEW_YORK), ("NM", "New Mexico", _DENVER),
    ("NY", "New York", _NEW_YORK), ("NC", "North Carolina", _NEW_YORK),
    ("ND", "North Dakota", _CHICAGO), ("OH", "Ohio", _NEW_YORK),
    ("OK", "Oklahoma", _CHICAGO), ("OR", "Oregon", _LOS_ANGELES),
    ("PA", "Pennsylvania", _NEW_YORK), ("RI", "Rhode Island", _NEW_YORK),
    ("SC", "South Carolina", _NEW_YORK), ("SD", "South Dakota", _CHICAGO),
    ("TN", "Tennessee", _CHICAGO), ("TX", "Texas", _CHICAGO),
    ("UT", "Utah", _DENVER), ("VT", "Vermont", _NEW_YORK),
    ("VA", "Virginia", _NEW_YORK), ("WA", "Washington", _LOS_ANGELES),
    ("WV", "West Virginia", _NEW_YORK), ("WI", "Wisconsin", _CHICAGO),
    ("WY", "Wyoming", _DENVER), ("PR", "Puerto Rico", "America/Puerto_Rico"),
    ("GU", "Guam", "Pacific/Guam"), ("VI", "U.S. Virgin Islands", "America/St_Thomas"),
    ("AS", "American Samoa", "Pacific/Pago_Pago"),
    ("MP", "Northern Mariana Islands", "Pacific/Saipan"),
]  # fmt: skip

CA_PROVINCES: list[tuple[str, str, str]] = [
    ("AB", "Alberta", "America/Edmonton"), ("BC", "British Columbia", "America/Vancouver"),
    ("MB", "Manitoba", "America/Winnipeg"), ("NB", "New Brunswick", "America/Moncton"),
    ("NL", "Newfoundland and Labrador", "America/St_Johns"),
    ("NS", "Nova Scotia", "America/Halifax"), ("NT", "Northwest Territories", "America/Edmonton"),
    ("NU", "Nunavut", "America/Iqaluit"), ("ON", "Ontario", "America/Toronto"),
    ("PE", "Prince Edward Island", "America/Halifax"), ("QC", "Quebec", "America/Toronto"),
    ("SK", "Saskatchewan", "America/Regina"), ("YT", "Yukon", "America/Whitehorse"),
]  # fmt: skip

# The zone of a country where most of it is, then its regions that differ. The United States
# and Canada span six zones each: there, only the state or province suggests one.
COUNTRY_ZONES: dict[str, str] = {
    "PR": "America/Puerto_Rico",
    "MX": "America/Mexico_City",
    "ES": "Europe/Madrid",
    "GB": "Europe/London",
}
REGIONS: dict[str, dict[str, str]] = {
    "US": {key: zone for code, name, zone in US_STATES for key in (code.lower(), name.lower())},
    "CA": {key: zone for code, name, zone in CA_PROVINCES for key in (code.lower(), name.lower())},
    "ES": dict.fromkeys(
        ("canarias", "canary islands", "islas canarias", "las palmas", "santa cruz de tenerife"),
        "Atlantic/Canary",
    ),
    "MX": {"baja california": "America/Tijuana", "sonora": "America/Hermosillo",
           "quintana roo": "America/Cancun"},
}  # fmt: skip


@cache
def timezone_names() -> list[str]:
    """Every zone a site may be in, sorted."""
    return sorted(zoneinfo.available_timezones())


def suggest_timezone(*, state: str, country: str) -> str:
    """The zone the address suggests, or "" when it does not say (an unknown country, or a
    country of several zones without a state the table knows)."""
    code = country_code(country)
    region = REGIONS.get(code, {}).get(" ".join(state.lower().split()).rstrip("."), "")
    zone = region or COUNTRY_ZONES.get(code, "")
    return zone if zone in zoneinfo.available_timezones() else ""
