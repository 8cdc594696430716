"""The reassign_all scenario: a coordinator of the largest site leaves with 10,000 open leads,
and a site lead confirms "spread fairly" on the Team page. Measured is the confirmed POST, in
process (plan, write, audit, redirect); each run is undone before the next, and the leads go
back to their real owners at the end."""

from __future__ import annotations

import html
import re
import statistics
import time
import uuid

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads.models import OPEN_STATUSES, BulkChange
from leads.services import bulk_change_undo
from trialsnest.accounts.models import User
from trialsnest.audit.services import Actor
from trialsnest.bench.measure import Result, percentile
from trialsnest.bench.pages import sites_by_size, total_leads
from trialsnest.tenancy.models import Membership, Role, Site

LEADS = 10_000
EXPECTED = re.compile(r'name="expected" value="([^"]*)"')


def _take_leads(site_id: int, leaving: Membership, n: int) -> tuple[list[int], list[int]]:
    """Give `leaving` up to n open leads of the site; returns their ids and real owners."""
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH taken AS (
                   SELECT l.id, l.owner_id FROM leads_lead l
                   JOIN studies_studysite ss ON ss.id = l.study_site_id
                   WHERE ss.site_id = %s AND l.status = ANY(%s) ORDER BY l.id LIMIT %s
               )
               UPDATE leads_lead l SET owner_id = %s FROM taken WHERE l.id = taken.id
               RETURNING l.id, taken.owner_id""",
            [site_id, [str(s) for s in OPEN_STATUSES], n, leaving.pk],
        )
        rows = cursor.fetchall()
    return [int(a) for a, _ in rows], [int(b) for _, b in rows]


def _give_back(ids: list[int], owners: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE leads_lead l SET owner_id = o.owner_id
               FROM unnest(%s::bigint[], %s::bigint[]) AS o(id, owner_id) WHERE l.id = o.id""",
            [ids, owners],
        )


def reassign_all(runs: int, leads: int = LEADS) -> list[Result]:
    total = total_leads()
    site_id = sites_by_size()[0][0]
    organization_id = Site.objects.get(pk=site_id).organization_id
    site_lead = (
        Membership.objects.filter(organization_id=organization_id, role=Role.SITE_LEAD)
        .select_related("user")
        .order_by("id")
        .first()
    )
    assert site_lead is not None, "no site lead: run generate_data"
    user = User.objects.create(email=f"leaving.{uuid.uuid4().hex[:8]}@bench.example")
    leaving = Membership.objects.create(
        user=user, organization_id=organization_id, role=Role.COORDINATOR
    )
    leaving.restricted_sites.set([site_id])
    ids, owners = _take_leads(site_id, leaving, leads)
    client = Client(HTTP_HOST="localhost")
    client.force_login(site_lead.user)
    url = f"/team/{leaving.code}/reassign/"
    timings, queries = [], 0
    try:
        for run in range(max(1, min(runs, 10))):
            confirmation = client.get(url).content.decode()
            expected = EXPECTED.search(confirmation)
            assert expected is not None, "no confirmation form"
            data = {"to": "", "expected": html.unescape(expected.group(1))}
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.post(url, data)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, response.status_code
            queries = len(captured)
            change = BulkChange.objects.filter(from_owner=leaving).latest("created_at")
            assert change.lead_count == len(ids), (change.lead_count, run)
            bulk_change_undo(change=change, actor=Actor(user=site_lead.user))
    finally:
        _give_back(ids, owners)
        leaving.is_active = False
        leaving.save(update_fields=["is_active"])
    p50 = statistics.median(timings)
    return [
        Result(
            scenario="reassign_all",
            leads=total,
            p50_ms=round(p50, 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            queries=queries,
            rows_per_s=round(len(ids) / (p50 / 1000), 1),
        )
    ]
