"""Scheduling scenarios: the free slots of a busy site over two weeks, and fifty bookings of one
slot at the same instant (exactly one may win: PostgreSQL's exclusion constraint decides)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import time as clock
from datetime import timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

from leads.models import Activity, Lead, Person, Source, Status
from leads.outreach.models import OutboundMessage
from leads.services import lead_change_status, lead_create, person_create
from scheduling.models import Appointment, Resource, ResourceKind, VisitType, WeeklyHours
from scheduling.selectors import free_slots, week_start
from scheduling.services.appointments import SlotTaken, appointment_book
from trialsnest.audit.services import Actor
from trialsnest.bench.measure import Result, percentile
from trialsnest.bench.pages import total_leads
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Site

RESOURCES = 20
CONTENDERS = 50
ACTOR = Actor(user=None)


def _busy_site() -> tuple[StudySite, list[Resource]]:
    """A new site of the first organization with 20 resources and a study, open weekdays."""
    template = StudySite.objects.select_related("site").order_by("id").first()
    assert template is not None, "no StudySite: run generate_data"
    site = Site.objects.create(
        organization_id=template.organization_id,
        name=f"Bench clinic {uuid.uuid4().hex[:8]}",
        timezone="America/Chicago",
    )
    study_site = StudySite.objects.create(
        organization_id=template.organization_id, site=site, study_id=template.study_id
    )
    for weekday in range(1, 6):
        WeeklyHours.objects.create(
            organization_id=site.organization_id,
            site=site,
            weekday=weekday,
            opens_at=clock(8),
            closes_at=clock(18),
        )
    resources = [
        Resource.objects.create(
            organization_id=site.organization_id,
            site=site,
            name=f"Resource {i}",
            kind=ResourceKind.ROOM if i % 2 else ResourceKind.STAFF,
        )
        for i in range(RESOURCES)
    ]
    return study_site, resources


def _visit_type(study_site: StudySite, resources: list[Resource], name: str) -> VisitType:
    visit_type = VisitType.objects.create(
        organization_id=study_site.organization_id,
        study_site=study_site,
        name=name,
        duration_minutes=60,
    )
    visit_type.resources.set(resources)
    return visit_type


def _ready_lead(study_site: StudySite) -> Lead:
    person = person_create(
        organization=study_site.organization,
        actor=ACTOR,
        first_name="Bench",
        last_name=uuid.uuid4().hex[:10],
        email=f"{uuid.uuid4().hex}@bench.invalid",
    )
    lead = lead_create(person=person, study_site=study_site, source=Source.WEB_FORM, actor=ACTOR)
    for status in (Status.PRESCREENING, Status.RECORDS_PENDING, Status.RECORDS_READY):
        lead = lead_change_status(lead=lead, status=status, actor=ACTOR)
    return lead


def _remove(study_site: StudySite) -> None:
    """Take the scenario's site away again, so the other scenarios measure the same database."""
    leads = Lead.objects.filter(study_site=study_site)
    people = list(leads.values_list("person_id", flat=True))
    Appointment.objects.filter(lead__in=leads).delete()
    VisitType.objects.filter(study_site=study_site).delete()
    Activity.objects.filter(lead__in=leads).delete()
    OutboundMessage.objects.filter(lead__in=leads).delete()  # the visit e-mails
    leads.delete()
    Person.objects.filter(pk__in=people).delete()
    site = study_site.site
    study_site.delete()
    Resource.objects.filter(site=site).delete()
    site.delete()


def free_slots_scenario(runs: int) -> list[Result]:
    """Two weeks of a visit type needing all 20 resources, with a booking every other hour."""
    leads = total_leads()
    study_site, resources = _busy_site()
    visit_type = _visit_type(study_site, resources, "Screening visit")
    first = week_start(timezone.now().date()) + timedelta(days=7)
    singles = [_visit_type(study_site, [r], f"Check {i}") for i, r in enumerate(resources)]
    slots = [slot for day in free_slots(visit_type, first, days=14) for slot in day.slots]
    for n, slot in enumerate(slots[::4]):  # one resource busy an hour in every two
        appointment_book(
            lead=_ready_lead(study_site),
            visit_type=singles[n % RESOURCES],
            starts_at=slot.starts_at,
            actor=ACTOR,
        )
    timings = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        free_slots(visit_type, first, days=14)
        timings.append((time.perf_counter() - started) * 1000)
    timings = timings[1:]  # the first run warms the caches
    _remove(study_site)
    return [
        Result(
            "free_slots",
            leads=leads,
            p50_ms=percentile(timings, 50),
            p95_ms=percentile(timings, 95),
            p99_ms=percentile(timings, 99),
        )
    ]


def book_contended(runs: int) -> list[Result]:
    """Fifty threads, each with its own connection and lead, book one slot at once."""
    total = total_leads()
    study_site, resources = _busy_site()
    visit_type = _visit_type(study_site, resources[:2], "Screening visit")
    first = week_start(timezone.now().date()) + timedelta(days=7)
    slot = next(s for d in free_slots(visit_type, first) for s in d.slots)
    leads = [_ready_lead(study_site) for _ in range(CONTENDERS)]
    barrier = threading.Barrier(CONTENDERS)
    timings: list[float] = [0.0] * CONTENDERS
    won: list[bool] = [False] * CONTENDERS

    def book(index: int) -> None:
        try:
            # Connected before the start, as a web worker is (CONN_MAX_AGE): the figure is the
            # booking's, not fifty PostgreSQL backends starting at once.
            connection.ensure_connection()
            barrier.wait(timeout=60)
            started = time.perf_counter()
            try:
                appointment_book(
                    lead=leads[index], visit_type=visit_type, starts_at=slot.starts_at, actor=ACTOR
                )
                won[index] = True
            except SlotTaken:
                pass
            timings[index] = (time.perf_counter() - started) * 1000
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    booked = sum(won)
    _remove(study_site)
    assert booked == 1, f"{booked} bookings of one slot"
    return [
        Result(
            "book_contended",
            leads=total,
            p50_ms=percentile(timings, 50),
            p95_ms=percentile(timings, 95),
            p99_ms=percentile(timings, 99),
            queries=booked,  # bookings that won: exactly one
        )
    ]
