from __future__ import annotations

from datetime import datetime

from django import template

from leads.presenters import site_time

register = template.Library()


@register.filter
def at_site(value: datetime | None, tz: str) -> str:
    """A time as the site's clock shows it: "Tue 01 Dec 14:30 CST"."""
    return site_time(value, tz)
