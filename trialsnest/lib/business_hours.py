"""SLA deadlines counted in a site's business hours and time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def add_business_hours(
    start: datetime,
    hours: float,
    *,
    timezone: str,
    opens: time,
    closes: time,
    days: list[int],
) -> datetime:
    """The moment `hours` of business time after `start` (an aware datetime)."""
    if not days or opens >= closes:
        return start + timedelta(hours=hours)
    tz = ZoneInfo(timezone)
    moment = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    for _ in range(3660):  # ten years of days: enough for any target, and always ends
        day_open = datetime.combine(moment.date(), opens, tz)
        day_close = datetime.combine(moment.date(), closes, tz)
        if moment.isoweekday() in days and moment < day_close:
            moment = max(moment, day_open)
            available = day_close - moment
            if remaining <= available:
                return (moment + remaining).astimezone(start.tzinfo)
            remaining -= available
        moment = datetime.combine(moment.date() + timedelta(days=1), opens, tz)
    return start + timedelta(hours=hours)
