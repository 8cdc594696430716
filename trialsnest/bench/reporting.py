"""Reporting scenarios: the nightly rollup rebuild, an incremental refresh after 1,000 lead
movements, the site lead's dashboard of the largest organization (90 days) and a sponsor's
report of the study with the most StudySites."""

from __future__ import annotations

import random
import statistics
import time
import uuid

from django.db import connection
from django.db.models import Count
from django.test import Client
from guardian.shortcuts import assign_perm, remove_perm

from reporting.rollups import cohorts_rebuild, cohorts_refresh_for_leads, cohorts_tidy
from trialsnest.accounts.models import User
from trialsnest.bench.measure import Result, measure_page, percentile
from trialsnest.bench.pages import sites_by_size, total_leads
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Role, Site, SponsorMembership

MOVEMENTS = 1000


def _timed(name: str, runs: int, work: object, leads: int) -> Result:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    p50 = statistics.median(timings)
    return Result(
        scenario=name,
        leads=leads,
        p50_ms=round(p50, 2),
        p95_ms=round(percentile(timings, 95), 2),
        p99_ms=round(percentile(timings, 99), 2),
        seconds=round(p50 / 1000, 3),
    )


def rollup(runs: int) -> list[Result]:
    leads = total_leads()
    rebuild = _timed("rollup", max(1, min(runs, 3)), cohorts_rebuild, leads)
    cohorts_tidy()  # as the nightly task does: the scenarios after this one read the cohorts
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM leads_lead ORDER BY random() LIMIT %s", [MOVEMENTS])
        ids = [int(r[0]) for r in cursor.fetchall()]
    rng = random.Random(14)
    incremental = _timed(
        "rollup_incremental",
        max(1, min(runs, 10)),
        lambda: cohorts_refresh_for_leads(lead_ids=rng.sample(ids, len(ids))),
        leads,
    )
    return [rebuild, incremental]


def dashboard(runs: int) -> list[Result]:
    leads = total_leads()
    organization_id = Site.objects.get(pk=sites_by_size()[0][0]).organization_id
    site_lead = (
        Membership.objects.filter(organization_id=organization_id, role=Role.SITE_LEAD)
        .select_related("user")
        .order_by("id")
        .first()
    )
    assert site_lead is not None, "no site lead: run generate_data"
    client = Client(HTTP_HOST="localhost")
    client.force_login(site_lead.user)
    return [measure_page("dashboard", client, "/dashboard/", runs=runs, leads=leads)]


def sponsor_report(runs: int) -> list[Result]:
    leads = total_leads()
    study = (
        StudySite.objects.values("study_id", "study__sponsor_id", "study__code")
        .annotate(n=Count("id"))
        .filter(study__sponsor_id__isnull=False)
        .order_by("-n")
        .first()
    )
    assert study is not None, "no study with a sponsor: run generate_data"
    user = User.objects.create(email=f"sponsor.{uuid.uuid4().hex[:8]}@bench.example")
    SponsorMembership.objects.create(user=user, sponsor_id=study["study__sponsor_id"])
    study_sites = list(StudySite.objects.filter(study_id=study["study_id"]))
    for ss in study_sites:
        assign_perm("studies.view_studysite_reports", user, ss)
    try:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        url = f"/reports/{study['study__code']}/"
        return [measure_page("sponsor_report", client, url, runs=runs, leads=leads)]
    finally:
        for ss in study_sites:
            remove_perm("studies.view_studysite_reports", user, ss)
        user.is_active = False
        user.save(update_fields=["is_active"])
