from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from leads.selectors import site_time, span

register = template.Library()


@register.filter
def at_site(value: datetime | None, tz: str) -> str:
    """A time as the site's clock shows it: "Tue 01 Dec 14:30 CST"."""
    return site_time(value, tz)


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, briefly: "5 min ago", "3 h ago", "9 days ago"."""
    if value is None:
        return "—"
    return f"{span(timezone.now() - value)} ago"
