"""Against a real server: fifty coordinators book one slot at the same instant. PostgreSQL's
exclusion constraint lets exactly one through; the other 49 get the clear message."""

from __future__ import annotations

import http.client
import re
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import Status
from scheduling.models import Appointment, Booking
from scheduling.selectors import free_slots, week_start
from scheduling.services.appointments import TAKEN
from tests.conftest import World
from tests.scheduling.conftest import ready_lead, visit_type_at, weekday_hours

THREADS = 50
ATTEMPTS = 5
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _cookie(client: Client, name: str) -> str:
    return f"{name}={client.cookies[name].value}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_bookings_of_one_slot_make_exactly_one_appointment(
    world: World, live_server: Any
):
    weekday_hours(world.site_a)
    visit_type = visit_type_at(world.study_site_a)
    leads = [ready_lead(world.study_site_a) for _ in range(THREADS)]
    next_week = week_start(timezone.now().date()) + timedelta(days=7)
    slot = next(s for d in free_slots(visit_type, next_week) for s in d.slots)
    server = urlsplit(live_server.url)
    body = urlencode({"visit_type": str(visit_type.code), "starts_at": slot.iso})
    # One signed-in session per coordinator: the session and CSRF cookies the browser has.
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(world.site_lead.user)
        clients.append(client)
    barrier = threading.Barrier(THREADS)
    answers: list[Any] = [None] * THREADS

    def book(index: int) -> None:
        url = reverse("lead_schedule", kwargs={"code": leads[index].code})
        session = _cookie(clients[index], django_settings.SESSION_COOKIE_NAME)
        for attempt in range(ATTEMPTS):
            connection = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
            try:
                connection.request("GET", url, headers={"Cookie": session})
                page = connection.getresponse()
                token = CSRF.search(page.read().decode()).group(1)  # type: ignore[union-attr]
                csrf = page.headers["Set-Cookie"].split(";")[0]
                if attempt == 0:
                    barrier.wait(timeout=60)  # every page open, then all bookings at once
                headers = {
                    "Cookie": f"{session}; {csrf}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": token,
                }
                connection.request("POST", url, body=body, headers=headers)
                response = connection.getresponse()
                answers[index] = (response.status, response.read().decode())
                return
            except (ConnectionError, threading.BrokenBarrierError) as error:
                answers[index] = error  # reported by the assertion below if it persists
                time.sleep(0.2 * (attempt + 1))
            except Exception as error:  # reported by the assertion below, not lost in the thread
                answers[index] = error
                return
            finally:
                connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert all(isinstance(answer, tuple) for answer in answers), answers
    statuses = sorted(answer[0] for answer in answers)
    assert statuses == [302] + [409] * (THREADS - 1), statuses
    assert all(TAKEN in text for status, text in answers if status == 409)
    # The losers see fresh slots: the slot that was taken is no longer offered to them.
    assert all(f'value="{slot.iso}"' not in text for status, text in answers if status == 409)
    appointment = Appointment.objects.get()
    assert appointment.starts_at == slot.starts_at
    assert Booking.objects.filter(active=True).count() == visit_type.resources.count()
    booked = [lead for lead in leads if lead.pk == appointment.lead_id]
    assert len(booked) == 1
    statuses_now = {lead.pk: lead.status for lead in type(leads[0]).objects.all()}
    assert statuses_now[appointment.lead_id] == Status.VISIT_SCHEDULED
    assert sum(s == Status.RECORDS_READY for s in statuses_now.values()) == THREADS - 1
