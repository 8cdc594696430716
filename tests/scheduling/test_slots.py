"""Free slots: the site's weekly hours on its clock, less closures, public holidays and the
times the needed resources are already booked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.models import Closure, SiteCalendar
from scheduling.selectors import free_slots, offered_days
from scheduling.services.appointments import appointment_book
from tests.conftest import World
from tests.scheduling.conftest import MONDAY, ready_lead, visit_type_at
from trialsnest.audit.services import Actor

CHICAGO = ZoneInfo("America/Chicago")


def _local_starts(days) -> dict[date, list[str]]:
    return {d.day: [s.local.strftime("%H:%M") for s in d.slots] for d in days}


def test_a_week_offers_each_weekday_s_hours_in_steps_that_fit_the_visit(
    world: World, visit_type, clock
):
    days = free_slots(visit_type, MONDAY)

    starts = _local_starts(days)
    assert len(days) == 7
    assert starts[MONDAY] == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert starts[date(2026, 3, 7)] == []  # Saturday: no hours
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for d in days for s in d.slots)


def test_slots_keep_their_local_time_across_the_daylight_saving_change(
    world: World, visit_type, clock
):
    friday, next_monday = offered_days(visit_type, date(2026, 3, 6), 4)[0::3]

    assert friday.slots[0].local.strftime("%H:%M %Z") == "09:00 CST"
    assert next_monday.slots[0].local.strftime("%H:%M %Z") == "09:00 CDT"
    assert friday.slots[0].starts_at == datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert next_monday.slots[0].starts_at == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_a_closure_and_a_public_holiday_take_no_visits(world: World, visit_type, clock):
    Closure.objects.create(
        organization=world.org_a,
        site=world.site_a,
        first_day=date(2026, 3, 3),
        last_day=date(2026, 3, 4),
        reason="Staff training",
    )
    SiteCalendar.objects.create(organization=world.org_a, site=world.site_a)

    march = {d.day: d for d in free_slots(visit_type, MONDAY)}
    may = {d.day: d for d in free_slots(visit_type, date(2026, 5, 25))}

    assert march[date(2026, 3, 3)].closed == "Staff training"
    assert march[date(2026, 3, 4)].slots == []
    assert march[date(2026, 3, 5)].slots
    assert may[date(2026, 5, 25)].closed == "Memorial Day"
    assert may[date(2026, 5, 25)].slots == []


def test_a_booked_resource_removes_the_overlapping_slots_of_every_visit_type_needing_it(
    world: World, visit_type, clock
):
    lead = ready_lead(world.study_site_a)
    start = datetime.combine(MONDAY, time(10), tzinfo=CHICAGO)
    appointment_book(lead=lead, visit_type=visit_type, starts_at=start, actor=Actor(user=None))
    other = visit_type_at(world.study_site_a, name="Blood draw", minutes=30)
    other.resources.add(*visit_type.resources.all())

    assert _local_starts(free_slots(visit_type, MONDAY, days=1))[MONDAY] == ["09:00", "11:00"]
    assert _local_starts(free_slots(other, MONDAY, days=1))[MONDAY] == [
        "09:00",
        "09:30",
        "11:00",
        "11:30",
    ]


def test_past_slots_are_not_offered(world: World, visit_type, clock):
    clock.move_to(datetime(2026, 3, 2, 16, 15, tzinfo=UTC))  # 10:15 in Chicago

    assert _local_starts(free_slots(visit_type, MONDAY, days=1))[MONDAY] == ["10:30", "11:00"]


def test_a_site_without_weekly_hours_uses_its_business_hours(world: World, clock):
    visit_type = visit_type_at(world.study_site_a2, minutes=240)

    starts = _local_starts(free_slots(visit_type, MONDAY, days=7))

    # Business hours 09:00-17:00 Monday to Friday; a 4-hour visit starts by 13:00.
    assert starts[MONDAY][0] == "09:00"
    assert starts[MONDAY][-1] == "13:00"
    assert starts[date(2026, 3, 8)] == []
