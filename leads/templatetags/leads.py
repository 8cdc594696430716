from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

register = template.Library()


@register.filter
def at_site(value: datetime | None, tz: str) -> str:
    """A time as the site's clock shows it: "Tue 14:30 CST"."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(tz))
    return local.strftime("%a %d %b %H:%M %Z")
