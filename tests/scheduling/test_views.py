"""The scheduling screens as a coordinator uses them, with and without htmx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.urls import reverse
from icalendar import Calendar

from leads.models import Status
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services.appointments import TAKEN, appointment_book
from tests.conftest import World, signed_in
from tests.leads.conftest import fresh
from tests.scheduling.conftest import ready_lead
from trialsnest.audit.services import Actor

TEN = datetime(2026, 3, 2, 16, tzinfo=UTC)  # Monday 10:00 in Chicago
HTMX = {"HX-Request": "true"}


def _schedule_url(lead) -> str:
    return reverse("lead_schedule", kwargs={"code": lead.code})


def _action_url(appointment, action: str) -> str:
    return reverse("appointment_action", kwargs={"code": appointment.code, "action": action})


def test_the_week_view_lists_free_slots_on_the_site_s_clock(world: World, visit_type, ready):
    client = signed_in(world.coordinator.user)

    page = client.get(_schedule_url(ready)).content.decode()
    fragment = client.get(_schedule_url(ready), headers=HTMX).content.decode()

    assert "Week of Mon 02 Mar 2026" in page
    assert ">09:00</button>" in page
    assert 'value="2026-03-02T15:00:00+00:00"' in page
    assert "<html" in page
    assert fragment.lstrip().startswith('<section id="week"')
    assert ">09:00</button>" in fragment


def test_the_next_week_link_is_a_plain_link_and_shows_the_dst_week(world: World, visit_type, ready):
    client = signed_in(world.coordinator.user)
    page = client.get(_schedule_url(ready)).content.decode()
    next_url = f"{_schedule_url(ready)}?visit_type={visit_type.code}&amp;week=2026-03-09"
    assert f'href="{next_url}"' in page

    after = client.get(next_url.replace("&amp;", "&")).content.decode()

    assert "Week of Mon 09 Mar 2026" in after
    assert 'value="2026-03-09T14:00:00+00:00"' in after  # 09:00 CDT


def test_booking_a_slot_opens_the_appointment_and_moves_the_lead(world: World, visit_type, ready):
    client = signed_in(world.coordinator.user)

    response = client.post(
        _schedule_url(ready), {"visit_type": visit_type.code, "starts_at": TEN.isoformat()}
    )

    appointment = Appointment.objects.get(lead=ready)
    assert response.status_code == 302
    assert response["Location"] == reverse("appointment_detail", kwargs={"code": appointment.code})
    assert fresh(ready).status == Status.VISIT_SCHEDULED
    page = client.get(response["Location"]).content.decode()
    assert "Mon 02 Mar 2026 10:00 CST" in page
    lead_page = client.get(reverse("lead_detail", kwargs={"code": ready.code})).content.decode()
    assert "Visits" in lead_page
    assert appointment.visit_type.name in lead_page


def test_a_taken_slot_answers_the_clear_message_and_fresh_slots(world: World, visit_type, ready):
    other = ready_lead(world.study_site_a)
    appointment_book(lead=other, visit_type=visit_type, starts_at=TEN, actor=Actor(user=None))
    client = signed_in(world.coordinator.user)
    data = {"visit_type": visit_type.code, "starts_at": TEN.isoformat()}

    response = client.post(_schedule_url(ready), data)
    htmx = client.post(_schedule_url(ready), data, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 409
    assert TAKEN in body
    assert f'value="{TEN.isoformat()}"' not in body
    assert 'value="2026-03-02T17:00:00+00:00"' in body  # 11:00 is still free
    assert htmx.status_code == 200
    assert TAKEN in htmx.content.decode()
    assert fresh(ready).status == Status.RECORDS_READY


def test_a_malformed_time_is_a_clear_message_not_an_error(world: World, visit_type, ready):
    client = signed_in(world.coordinator.user)

    response = client.post(_schedule_url(ready), {"visit_type": visit_type.code, "starts_at": "x"})

    assert response.status_code == 422
    assert "Pick a time from the list." in response.content.decode()


def test_confirm_reschedule_and_cancel_from_the_appointment_page(world: World, visit_type, ready):
    client = signed_in(world.coordinator.user)
    appointment = appointment_book(
        lead=ready, visit_type=visit_type, starts_at=TEN, actor=Actor(user=None)
    )
    ics_url = reverse("appointment_calendar", kwargs={"code": appointment.code})
    move_url = reverse("appointment_reschedule", kwargs={"code": appointment.code})

    assert client.post(_action_url(appointment, "confirm")).status_code == 302
    move_page = client.get(move_url).content.decode()
    assert f'value="{TEN.isoformat()}"' not in move_page  # its own time is no move
    assert 'value="2026-03-02T16:30:00+00:00"' in move_page  # a half-hour move may overlap it
    moved = client.post(move_url, {"starts_at": (TEN + timedelta(days=1)).isoformat()})
    empty = client.post(_action_url(appointment, "cancel"), {"cancel-reason": ""})
    cancelled = client.post(_action_url(appointment, "cancel"), {"cancel-reason": "Moved away"})

    appointment.refresh_from_db()
    assert moved.status_code == 302
    assert empty.status_code == 422
    assert cancelled.status_code == 302
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Moved away"
    assert fresh(ready).status == Status.RECORDS_READY
    download = client.get(ics_url)
    assert download["Content-Type"] == "text/calendar"
    event = Calendar.from_ical(download.content).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 2
    assert str(event["UID"]) == f"{appointment.code}@trialsnest"


def test_no_show_and_completed_are_offered_once_the_visit_started(
    world: World, visit_type, ready, clock
):
    client = signed_in(world.coordinator.user)
    appointment = appointment_book(
        lead=ready, visit_type=visit_type, starts_at=TEN, actor=Actor(user=None)
    )
    detail = reverse("appointment_detail", kwargs={"code": appointment.code})
    assert "Mark no-show" not in client.get(detail).content.decode()
    clock.move_to(TEN + timedelta(minutes=20))
    client = signed_in(world.coordinator.user)  # after the clock moved: no idle sign-out

    assert "Mark no-show" in client.get(detail).content.decode()
    client.post(_action_url(appointment, "no_show"), {"no_show-reason": "No answer at door"})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    assert appointment.no_show_reason == "No answer at door"
    assert fresh(ready).next_action == "follow_up"


def test_completing_hands_the_lead_off(world: World, visit_type, ready, clock):
    appointment = appointment_book(
        lead=ready, visit_type=visit_type, starts_at=TEN, actor=Actor(user=None)
    )
    clock.move_to(TEN + timedelta(hours=1))
    client = signed_in(world.coordinator.user)  # after the clock moved: no idle sign-out

    response = client.post(_action_url(appointment, "complete"))

    assert response.status_code == 302
    assert fresh(ready).status == Status.HANDED_OFF


def test_site_leads_and_admins_find_the_scheduling_settings(world: World):
    team = signed_in(world.site_lead.user).get(reverse("team")).content.decode()
    sites = signed_in(world.admin.user).get(reverse("settings_sites")).content.decode()

    assert reverse("visit_types", kwargs={"code": world.study_site_a.code}) in team
    assert reverse("visit_types", kwargs={"code": world.study_site_b.code}) not in team
    assert reverse("site_scheduling", kwargs={"code": world.site_a.code}) in sites
    assert reverse("site_scheduling", kwargs={"code": world.site_b.code}) not in sites
