"""Every dashboard figure opens the leads behind it: as many as the figure says, only the
organization's and the member's, and the listing is in the audit log."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from reporting.behind import MEASURES, leads_behind
from reporting.rollups import cohorts_rebuild
from reporting.selectors import Figures, Filters, cohort_rows, group_figures
from tests.conftest import World, signed_in
from tests.reporting.helpers import spread_leads
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Role

pytestmark = pytest.mark.django_db


def _links(body: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'href="(/dashboard/leads/\?[^"]+)"', body)]


def test_each_measure_lists_as_many_leads_as_the_rollups_count(world: World):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=80, now=now)
    spread_leads(study_site=world.study_site_a2, owner=world.site_lead, n=40, now=now, seed=5)
    cohorts_rebuild(now=now)
    today = timezone.localdate(now)
    filters = Filters(today - timedelta(days=89), today)  # the dashboard's default range
    rows = cohort_rows(organization_id=world.org_a.pk, filters=filters)
    total = group_figures(rows, "all").get("all", Figures())
    for measure in MEASURES:
        behind = leads_behind(
            organization_id=world.org_a.pk, filters=filters, measure=measure, now=now
        )
        assert behind.count() == total.counts[measure], measure


def test_a_funnel_figure_opens_its_leads_and_each_opens_its_page(world: World):
    now = timezone.now()
    leads = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=30, now=now)
    cohorts_rebuild(now=now)
    site_lead = signed_in(world.site_lead.user)
    links = _links(site_lead.get("/dashboard/").content.decode())
    contacted = next(u for u in links if "measure=contacted" in u and "study_site" not in u)
    page = site_lead.get(contacted)
    assert page.status_code == 200
    body = page.content.decode()
    reached = [lead for lead in leads if _contacted(lead)]
    assert f"Contacted: {len(reached)} lead" in body
    for lead in reached:
        assert f'href="/leads/{lead.code}/"' in body
    listed = AuditEvent.objects.get(action="lead.listed")
    assert listed.actor == world.site_lead.user
    assert listed.changes["measure"] == "contacted"
    assert sorted(listed.changes["leads"]) == sorted(str(lead.code) for lead in reached)


def _contacted(lead) -> bool:
    lead.refresh_from_db()
    return lead.first_contact_at is not None


def test_a_study_site_row_opens_that_study_sites_leads_only(world: World):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=10, now=now)
    other = spread_leads(study_site=world.study_site_a2, owner=world.site_lead, n=10, now=now)
    cohorts_rebuild(now=now)
    admin = signed_in(world.admin.user)
    links = _links(admin.get("/dashboard/").content.decode())
    code = str(world.study_site_a.code)
    received = next(u for u in links if f"study_site={code}" in u and "measure=received" in u)
    assert parse_qs(urlsplit(received).query)["measure"] == ["received"]
    body = admin.get(received).content.decode()
    assert "Received: 10 leads" in body
    assert all(f"/leads/{lead.code}/" not in body for lead in other)


def test_another_organizations_study_site_or_an_unknown_figure_is_refused(world: World):
    site_lead = signed_in(world.site_lead.user)
    foreign = site_lead.get("/dashboard/leads/", {"study_site": str(world.study_site_b.code)})
    assert foreign.status_code == 422
    unknown = site_lead.get("/dashboard/leads/", {"measure": "names"})
    assert unknown.status_code == 422
    assert "There is no such figure" in unknown.content.decode()


def test_a_restricted_site_lead_sees_only_the_leads_of_their_sites(world: World):
    now = timezone.now()
    mine = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=5, now=now)
    spread_leads(study_site=world.study_site_a2, owner=world.admin, n=5, now=now, seed=2)
    world.site_lead.restricted_sites.set([world.site_a])
    assert world.site_lead.role == Role.SITE_LEAD
    body = signed_in(world.site_lead.user).get("/dashboard/leads/").content.decode()
    assert "Received: 5 leads" in body
    assert all(f"/leads/{lead.code}/" in body for lead in mine)


def test_the_leads_page_through_fifty_at_a_time(world: World):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=60, now=now)
    admin = signed_in(world.admin.user)
    first = admin.get("/dashboard/leads/").content.decode()
    assert first.count('href="/leads/') == 50
    assert "Page 1 of 2" in first
    second = admin.get("/dashboard/leads/", {"page": 2}).content.decode()
    assert second.count('href="/leads/') == 10
