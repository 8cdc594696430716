from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead, Person
from leads.services import lead_add_note
from reporting.rollups import cohorts_rebuild
from tests.conftest import signed_in
from tests.reporting.helpers import spread_leads
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db

CANARIES = ("Zebulon", "Quixotica", "+13125557777", "canary.zq@example.com", "1931-02-03",
            "Secret note about Quixotica")  # fmt: skip


def _report_urls(world):
    code = world.study_site_a.study.code
    return [
        "/reports/",
        f"/reports/{code}/",
        f"/reports/{code}/export.csv",
        f"/reports/{code}/?start=x",
        "/reports/not-a-code/",
        f"/reports/{world.study_site_a2.study.code}/",  # a study not shared: 404
        "/dashboard/",  # 404: staff pages do not exist for a sponsor
        "/dashboard/export.csv",
        "/queue/",
    ]


def test_planted_patient_details_never_reach_the_sponsor(world):
    now = timezone.now()
    leads = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=40, now=now)
    for lead in leads[:5]:
        Person.objects.filter(pk=lead.person_id).update(
            first_name="Zebulon", last_name="Quixotica", phone="+13125557777",
            email="canary.zq@example.com", date_of_birth="1931-02-03",
        )  # fmt: skip
        lead_add_note(
            lead=Lead.objects.get(pk=lead.pk), text="Secret note about Quixotica",
            actor=Actor(world.coordinator.user),
        )  # fmt: skip
    world.coordinator.user.first_name = "Zebulon"
    world.coordinator.user.save()
    cohorts_rebuild(now=now)
    client = signed_in(world.sponsor_viewer)
    for url in _report_urls(world):
        for headers in ({}, {"HX-Request": "true"}):
            body = client.get(url, headers=headers).content.decode()
            for canary in CANARIES:
                assert canary not in body, (url, canary)


def test_the_sponsor_sees_no_count_from_1_to_10(world):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=45, now=now)
    cohorts_rebuild(now=now)
    response = signed_in(world.sponsor_viewer).get(
        f"/reports/{world.study_site_a.study.code}/export.csv"
    )
    assert response.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(response.content.decode())) for c in row]
    numbers = [int(c) for c in cells if c.isdigit()]
    assert numbers, cells
    assert not [n for n in numbers if 1 <= n <= 10]
    assert "<11*" in cells


def test_the_shown_received_total_equals_a_direct_count(world):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=37, now=now)
    cohorts_rebuild(now=now)
    response = signed_in(world.sponsor_viewer).get(
        f"/reports/{world.study_site_a.study.code}/export.csv"
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    all_sites = next(r for r in rows if r[0] == "All sites")
    assert all_sites[1] == str(Lead.objects.filter(study_site=world.study_site_a).count())


def test_a_study_site_not_shared_stays_out_of_the_report(world):
    now = timezone.now()
    # Org B runs the same study but has not shared it with the sponsor.
    spread_leads(study_site=world.study_site_b, owner=world.outsider, n=50, now=now)
    cohorts_rebuild(now=now)
    body = signed_in(world.sponsor_viewer).get(f"/reports/{world.study_site_a.study.code}/")
    assert world.site_b.name not in body.content.decode()


def test_the_sponsor_report_queries_do_not_grow_with_the_leads(world, django_assert_num_queries):
    now = timezone.now()
    client = signed_in(world.sponsor_viewer)
    url = f"/reports/{world.study_site_a.study.code}/"
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=15, now=now)
    cohorts_rebuild(now=now)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=150, now=now, seed=4)
    cohorts_rebuild(now=now)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
