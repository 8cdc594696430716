"""A message template's visit time and address come from the lead's booked visit (the seam
scheduling registers with outreach), on the site's clock."""

from __future__ import annotations

import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from leads.outreach.rendering import render
from scheduling.services.appointments import appointment_cancel
from tests.conftest import World
from tests.scheduling.objects import appointment_at
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db


def test_a_template_names_the_booked_visit_in_site_time_and_says_so_once_it_is_cancelled(
    world: World,
):
    site = world.study_site_a.site
    site.address, site.city = "1 Main St", "Denver"
    site.save()
    appointment = appointment_at(world.study_site_a)
    local = appointment.starts_at.astimezone(zoneinfo.ZoneInfo(site.timezone))

    text = render("See you {{ visit_time }} at {{ visit_address }}", appointment.lead)

    assert text == f"See you {local:%A %B} {local.day}, {local:%H:%M} at 1 Main St, Denver"
    appointment_cancel(appointment=appointment, reason="Patient asked", actor=Actor(user=None))
    with pytest.raises(ValidationError, match="the lead has no visit"):
        render("See you {{ visit_time }}", appointment.lead)
