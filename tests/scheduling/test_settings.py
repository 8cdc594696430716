"""The site lead sets up scheduling: resources, weekly hours, closures, public holidays and
visit types, each audited; coordinators cannot change them."""

from __future__ import annotations

from django.urls import reverse

from scheduling.models import Closure, Resource, SiteCalendar, VisitType, WeeklyHours
from tests.conftest import World, signed_in
from trialsnest.audit.models import AuditEvent


def _post(client, site, form: str, **data: str):
    url = reverse("site_scheduling", kwargs={"code": site.code})
    return client.post(url, {"form": form, **{f"{form}-{k}": v for k, v in data.items()}})


def test_a_site_lead_sets_up_a_site_and_a_visit_type(world: World):
    client = signed_in(world.site_lead.user)
    site = world.site_a

    assert (
        _post(client, site, "resource", name="Exam room 1", kind="room", is_active="on").status_code
        == 302
    )
    assert (
        _post(client, site, "hours", weekday="2", opens_at="08:00", closes_at="12:00").status_code
        == 302
    )
    assert (
        _post(
            client,
            site,
            "closure",
            first_day="2026-12-24",
            last_day="2026-12-26",
            reason="Winter break",
        ).status_code
        == 302
    )
    assert (
        _post(
            client,
            site,
            "calendar",
            holiday_country="us",
            holiday_subdivision="il",
            slot_minutes="15",
        ).status_code
        == 302
    )
    room = Resource.objects.get(site=site)
    url = reverse("visit_types", kwargs={"code": world.study_site_a.code})
    created = client.post(
        url,
        {
            "name": "Screening visit",
            "duration_minutes": "90",
            "preparation": "Bring ID",
            "resources": [str(room.pk)],
            "is_active": "on",
        },
    )

    assert created.status_code == 302
    visit_type = VisitType.objects.get(study_site=world.study_site_a)
    assert list(visit_type.resources.all()) == [room]
    assert WeeklyHours.objects.get(site=site).weekday == 2
    assert Closure.objects.get(site=site).reason == "Winter break"
    calendar = SiteCalendar.objects.get(site=site)
    assert (calendar.holiday_country, calendar.holiday_subdivision, calendar.slot_minutes) == (
        "US",
        "IL",
        15,
    )
    assert {e.action for e in AuditEvent.objects.filter(organization=world.org_a)} >= {
        "resource.created",
        "weeklyhours.created",
        "closure.created",
        "sitecalendar.created",
        "visit_type.created",
    }
    page = client.get(reverse("site_scheduling", kwargs={"code": site.code})).content.decode()
    assert "Exam room 1" in page
    assert "Tuesday 08:00" in page


def test_wrong_settings_get_clear_messages(world: World):
    client = signed_in(world.site_lead.user)
    site = world.site_a

    hours = _post(client, site, "hours", weekday="2", opens_at="12:00", closes_at="08:00")
    calendar = _post(
        client, site, "calendar", holiday_country="US", holiday_subdivision="ZZ", slot_minutes="15"
    )
    no_resources = client.post(
        reverse("visit_types", kwargs={"code": world.study_site_a.code}),
        {"name": "Screening", "duration_minutes": "60"},
    )

    assert hours.status_code == 422
    assert calendar.status_code == 422
    assert "No public holidays are known for US ZZ." in calendar.content.decode()
    assert no_resources.status_code == 422
    assert "Pick at least one room, person or device" in no_resources.content.decode()
    assert not WeeklyHours.objects.exists()
    assert not VisitType.objects.exists()


def test_a_closure_can_be_removed(world: World):
    client = signed_in(world.site_lead.user)
    _post(
        client, world.site_a, "closure", first_day="2026-12-24", last_day="2026-12-24", reason="Eve"
    )
    closure = Closure.objects.get()

    url = reverse(
        "site_part_remove",
        kwargs={"code": world.site_a.code, "kind": "closure", "part": closure.code},
    )
    assert client.post(url).status_code == 302

    assert not Closure.objects.exists()
    assert AuditEvent.objects.filter(action="closure.removed").exists()
