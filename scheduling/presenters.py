"""What the scheduling screens show: times on the site's clock, the lead page's panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from leads.models import Lead, Status
from scheduling.models import Appointment
from scheduling.selectors import appointments_of


def site_clock(moment: datetime, tz: str) -> str:
    """ "Mon 02 Mar 2026 09:00 CST": a visit time as the site (and the patient) reads it."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M %Z")


@dataclass(frozen=True)
class AppointmentRow:
    appointment: Appointment
    when: str


@dataclass(frozen=True)
class LeadPanel:
    """The lead page's scheduling panel: the lead's visits, and whether one can be booked."""

    appointments: list[AppointmentRow]
    can_book: bool


def lead_panel(lead: Lead) -> LeadPanel:
    """One query: the lead's visits, newest first."""
    tz = lead.study_site.site.timezone
    rows = [AppointmentRow(a, site_clock(a.starts_at, tz)) for a in appointments_of(lead)[:10]]
    return LeadPanel(appointments=rows, can_book=lead.status == Status.RECORDS_READY)
