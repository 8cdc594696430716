from __future__ import annotations

from datetime import date, datetime

from django import template

from leads.presenters import site_time

register = template.Library()


@register.filter
def at_site(value: datetime | None, tz: str) -> str:
    """A time as the site's clock shows it: "Tue 01 Dec 14:30 CST"."""
    return site_time(value, tz)


@register.filter
def shown(value: object) -> str:
    """A record's value as a reviewer reads it: yes/no, a date as 2026-12-01, "—" for none."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
