"""Org-A scheduling objects for URL parameters (the permission matrices), at the real time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from scheduling.models import Appointment, Closure, VisitType, WeeklyHours
from scheduling.selectors import free_slots, week_start
from scheduling.services.appointments import appointment_book
from tests.conftest import World
from tests.scheduling.conftest import ready_lead, visit_type_at, weekday_hours
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite


def bookable(study_site: StudySite) -> VisitType:
    if not WeeklyHours.objects.filter(site=study_site.site).exists():
        weekday_hours(study_site.site)
    return visit_type_at(study_site)


def appointment_at(study_site: StudySite) -> Appointment:
    """A booked visit next week, for a lead that was ready to schedule."""
    visit_type = bookable(study_site)
    next_week = week_start(timezone.now().date()) + timedelta(days=7)
    slot = next(s for d in free_slots(visit_type, next_week) for s in d.slots)
    return appointment_book(
        lead=ready_lead(study_site),
        visit_type=visit_type,
        starts_at=slot.starts_at,
        actor=Actor(user=None),
    )


def org_a_ready_lead(world: World) -> dict[str, Any]:
    bookable(world.study_site_a)
    return {"code": ready_lead(world.study_site_a).code}


def org_a_appointment(world: World) -> dict[str, Any]:
    return {"code": appointment_at(world.study_site_a).code}


def org_a_appointment_action(action: str) -> Callable[[World], dict[str, Any]]:
    def kwargs(world: World) -> dict[str, Any]:
        return {"code": appointment_at(world.study_site_a).code, "action": action}

    return kwargs


def org_a_visit_type(world: World) -> dict[str, Any]:
    return {"code": bookable(world.study_site_a).code}


def org_a_site(world: World) -> dict[str, Any]:
    return {"code": world.site_a.code}


def org_a_closure(world: World) -> dict[str, Any]:
    closure = Closure.objects.create(
        organization=world.org_a,
        site=world.site_a,
        first_day=timezone.now().date(),
        last_day=timezone.now().date(),
        reason="Inventory",
    )
    return {"code": world.site_a.code, "kind": "closure", "part": closure.code}


def org_a_study_site(world: World) -> dict[str, Any]:
    return {"code": world.study_site_a.code}


def no_slot(world: World) -> dict[str, Any]:
    """A booking form with no usable time: members see the message, nothing is booked."""
    visit_type = VisitType.objects.filter(study_site=world.study_site_a).first()
    return {"visit_type": str(visit_type.code if visit_type else ""), "starts_at": "soon"}
