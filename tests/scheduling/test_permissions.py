"""Nobody reaches a visit they may not see. Org B's admin gets a 404 on every scheduling URL
and fragment naming an org-A object; the coordinator restricted to study_site_a gets the same
404 for study_site_a2's leads and visits, and cannot book another StudySite's visit type.
(Every URL for every persona is in tests/tenancy/test_permissions.py's matrix.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from scheduling.models import Appointment
from tests.conftest import World, signed_in
from tests.scheduling.conftest import ready_lead
from tests.scheduling.objects import appointment_at, bookable

HTMX = {"HX-Request": "true"}


def _appointment_urls(appointment: Appointment) -> list[tuple[str, str]]:
    code = appointment.code
    return [
        ("GET", reverse("appointment_detail", kwargs={"code": code})),
        ("GET", reverse("appointment_reschedule", kwargs={"code": code})),
        ("POST", reverse("appointment_reschedule", kwargs={"code": code})),
        ("GET", reverse("appointment_calendar", kwargs={"code": code})),
        *[
            ("POST", reverse("appointment_action", kwargs={"code": code, "action": action}))
            for action in ("confirm", "cancel", "no_show", "complete")
        ],
    ]


@pytest.mark.parametrize("persona", ["outsider", "coordinator"])
def test_visits_out_of_sight_are_a_404_with_and_without_htmx(world: World, persona: str):
    # The outsider is in org B; the coordinator is restricted to study_site_a.
    appointment = appointment_at(
        world.study_site_a2 if persona == "coordinator" else world.study_site_a
    )
    lead = ready_lead(appointment.lead.study_site)
    client = signed_in(getattr(world, persona).user)
    urls = [
        *_appointment_urls(appointment),
        ("GET", reverse("lead_schedule", kwargs={"code": lead.code})),
        ("POST", reverse("lead_schedule", kwargs={"code": lead.code})),
    ]

    for method, url in urls:
        for headers in ({}, HTMX):
            send = client.get if method == "GET" else client.post
            assert send(url, headers=headers).status_code == 404, (method, url, headers)
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_the_restricted_coordinator_works_the_visits_of_her_study_site(world: World):
    appointment = appointment_at(world.study_site_a)
    client = signed_in(world.coordinator.user)

    urls = _appointment_urls(appointment)
    for url in (urls[0][1], urls[1][1], urls[3][1]):
        assert client.get(url).status_code == 200, url
    confirm = client.post(urls[4][1])
    assert confirm.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_a_visit_type_of_another_study_site_or_organization_cannot_be_booked(world: World):
    lead = ready_lead(world.study_site_a)
    bookable(world.study_site_a)
    elsewhere = [bookable(world.study_site_a2), bookable(world.study_site_b)]
    client = signed_in(world.site_lead.user)
    url = reverse("lead_schedule", kwargs={"code": lead.code})

    for visit_type in elsewhere:
        assert client.get(url, {"visit_type": str(visit_type.code)}).status_code == 404
        response = client.post(url, {"visit_type": visit_type.code, "starts_at": "x"})
        assert response.status_code == 404
    assert not Appointment.objects.filter(lead=lead).exists()


def test_another_organization_s_settings_are_a_404(world: World):
    client = signed_in(world.outsider.user)
    visit_type = bookable(world.study_site_a)

    urls = [
        reverse("site_scheduling", kwargs={"code": world.site_a.code}),
        reverse("visit_types", kwargs={"code": world.study_site_a.code}),
        reverse("visit_type_edit", kwargs={"code": visit_type.code}),
    ]

    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"form": "resource", "name": "X"}).status_code == 404, url
