"""The site's calendar: records are asked for and due on dates as the site's clock counts them."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from trialsnest.tenancy.models import Site


def site_today(site: Site, now: datetime.datetime) -> datetime.date:
    return now.astimezone(ZoneInfo(site.timezone)).date()


def overdue_from(site: Site, due_on: datetime.date) -> datetime.datetime:
    """The moment a request due on `due_on` is overdue: the site opening the day after."""
    day = due_on + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, site.opens_at, tzinfo=ZoneInfo(site.timezone))
