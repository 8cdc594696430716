"""The scheduling app's answers to what the leads app announces (connected in SchedulingConfig)."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.dispatch import receiver

from leads.models import Lead, Person
from leads.outreach.visits import Visit
from leads.signals import lead_page_shown, person_erased, person_exported
from scheduling.models import Appointment
from scheduling.presenters import lead_panel
from scheduling.selectors import active_appointment


@receiver(lead_page_shown, sender=Lead)
def scheduling_panel(sender: Any, lead: Lead, **kwargs: Any) -> tuple[str, Any]:
    """The lead page's visits panel, under `panels.scheduling`."""
    return "scheduling", lead_panel(lead)


def upcoming_visit_of_lead(lead: Lead) -> Visit | None:
    """Outreach's `{{ visit_time }}` and `{{ visit_address }}`: the lead's booked or confirmed
    visit, at its site's address (registered in SchedulingConfig.ready)."""
    appointment = active_appointment(lead)
    if appointment is None:
        return None
    site = lead.study_site.site
    address = ", ".join(part for part in (site.address, site.city) if part)
    return Visit(starts_at=appointment.starts_at, address=address or site.name)


@receiver(person_exported, sender=Person)
def visits_export(sender: Any, person: Person, **kwargs: Any) -> tuple[str, list[Any]]:
    """The person's screening visits."""
    rows = (
        Appointment.objects.filter(lead__person=person)
        .annotate(
            lead_code=F("lead__code"),
            visit=F("visit_type__name"),
            place=F("site__name"),
        )
        .values("lead_code", "visit", "place", "starts_at", "status", "cancel_reason")
    )
    return "Visits", list(rows.order_by("starts_at"))


@receiver(person_erased, sender=Person)
def visits_erase(sender: Any, person: Person, **kwargs: Any) -> None:
    """The reasons typed for a cancelled or missed visit go; the visits stay."""
    Appointment.objects.filter(lead__person=person).update(cancel_reason="", no_show_reason="")
