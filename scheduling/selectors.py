"""Reads of the calendar: the opening windows of a site and the free slots of a visit type.

Opening hours are wall-clock times at the site: each day's slots are built in the site's time
zone and only then turned into UTC, so a 09:00 slot is 09:00 local on both sides of a
daylight-saving change (its UTC hour moves instead).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db.models import QuerySet
from django.utils import timezone

from leads.models import Lead
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Booking,
    Closure,
    SiteCalendar,
    VisitType,
    WeeklyHours,
)
from trialsnest.tenancy.models import Site

WEEK = 7


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    local: datetime  # the start on the site's clock

    @property
    def iso(self) -> str:
        return self.starts_at.isoformat()

    @property
    def label(self) -> str:
        return self.local.strftime("%H:%M")


@dataclass
class Day:
    day: date
    closed: str = ""  # why the site takes no visits that day ("" when it is open)
    slots: list[Slot] = field(default_factory=list)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def site_calendar(site: Site) -> SiteCalendar:
    """The site's scheduling settings, or the defaults (US holidays, 30-minute steps)."""
    found = SiteCalendar.objects.filter(site=site).first()
    return found or SiteCalendar(site=site, organization_id=site.organization_id)


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str, year: int) -> dict[date, str]:
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(found.items())


def public_holiday(calendar: SiteCalendar, day: date) -> str:
    if not calendar.holiday_country:
        return ""
    names = _holidays(calendar.holiday_country, calendar.holiday_subdivision, day.year)
    return names.get(day, "")


def opening_hours(site: Site) -> dict[int, list[tuple[time, time]]]:
    """ISO weekday → the site's opening windows; its business hours when none are set."""
    hours: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for row in WeeklyHours.objects.filter(site=site).order_by("weekday", "opens_at"):
        hours[row.weekday].append((row.opens_at, row.closes_at))
    if not hours:
        for weekday in site.business_days:
            hours[weekday].append((site.opens_at, site.closes_at))
    return hours


def offered_days(visit_type: VisitType, first_day: date, days: int) -> list[Day]:
    """Every start the site offers for this visit type on these days, bookings aside."""
    site = visit_type.study_site.site
    zone = ZoneInfo(site.timezone)
    calendar = site_calendar(site)
    hours = opening_hours(site)
    last_day = first_day + timedelta(days=days - 1)
    closures = list(
        Closure.objects.filter(site=site, first_day__lte=last_day, last_day__gte=first_day)
    )
    step = timedelta(minutes=calendar.slot_minutes)
    length = timedelta(minutes=visit_type.duration_minutes)
    result = []
    for offset in range(days):
        day = Day(first_day + timedelta(days=offset))
        closure = next((c for c in closures if c.first_day <= day.day <= c.last_day), None)
        day.closed = closure.reason if closure else public_holiday(calendar, day.day)
        if not day.closed:
            for opens, closes in hours.get(day.day.isoweekday(), []):
                local = datetime.combine(day.day, opens, tzinfo=zone)
                end = datetime.combine(day.day, closes, tzinfo=zone)
                while local + length <= end:
                    start = local.astimezone(UTC)
                    day.slots.append(Slot(start, start + length, local))
                    local = (datetime.combine(day.day, local.time()) + step).replace(tzinfo=zone)
        result.append(day)
    return result


def offered_week(visit_type: VisitType, starts_at: datetime) -> list[Day]:
    """The offered starts (bookings aside) of the week, on the site's clock, holding this one:
    read once by a booking to check its start and, when it is taken, to offer the free ones."""
    local_day = starts_at.astimezone(ZoneInfo(visit_type.study_site.site.timezone)).date()
    return offered_days(visit_type, week_start(local_day), WEEK)


def is_offered(week: list[Day], starts_at: datetime) -> bool:
    """Whether the site offers this start (`week`: its offered_week)."""
    return any(slot.starts_at == starts_at for day in week for slot in day.slots)


def free_slots(
    visit_type: VisitType,
    first_day: date,
    *,
    days: int = WEEK,
    now: datetime | None = None,
    ignore: Appointment | None = None,
    offered: list[Day] | None = None,
) -> list[Day]:
    """The offered slots of these days that are still in the future and whose every needed
    resource is free (`ignore`: an appointment being moved, whose own time does not count;
    `offered`: these days' offered_days when already read, which this narrows in place)."""
    now = now or timezone.now()
    if offered is None:
        offered = offered_days(visit_type, first_day, days)
    starts = [slot.starts_at for d in offered for slot in d.slots]
    needed = [r.pk for r in visit_type.resources.all() if r.is_active]
    if not starts or not needed:
        for d in offered:
            d.slots = []
        return offered
    busy = Booking.objects.filter(
        active=True,
        resource_id__in=needed,
        starts_at__lt=max(starts) + timedelta(minutes=visit_type.duration_minutes),
        ends_at__gt=min(starts),
    )
    if ignore is not None:
        busy = busy.exclude(appointment=ignore)
    taken: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for resource_id, start, end in busy.values_list("resource_id", "starts_at", "ends_at"):
        taken[resource_id].append((start, end))
    for d in offered:
        d.slots = [
            slot
            for slot in d.slots
            if slot.starts_at > now
            and not any(
                start < slot.ends_at and slot.starts_at < end
                for resource_id in needed
                for start, end in taken[resource_id]
            )
        ]
    return offered


def visit_types_of(lead: Lead) -> QuerySet[VisitType]:
    return VisitType.objects.filter(study_site_id=lead.study_site_id, is_active=True)


def active_appointment(lead: Lead) -> Appointment | None:
    return (
        Appointment.objects.filter(lead=lead, status__in=ACTIVE_STATUSES)
        .select_related("visit_type")
        .first()
    )


def appointments_of(lead: Lead) -> QuerySet[Appointment]:
    return Appointment.objects.filter(lead=lead).select_related("visit_type").order_by("-starts_at")
