"""Scenarios over the pages coordinators use most: the queue (first page and deep keyset
pages, at the largest and the median site) and the lead page."""

from __future__ import annotations

import urllib.parse

from django.db import connection
from django.test import Client

from leads.models import OPEN_STATUSES, Lead
from leads.selectors import cursor_of
from trialsnest.bench.measure import Result, measure_page
from trialsnest.tenancy.models import Membership, Role


def sites_by_size() -> list[tuple[int, int]]:
    """(site id, open leads), largest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ss.site_id, count(*) FROM leads_lead l
               JOIN studies_studysite ss ON ss.id = l.study_site_id
               WHERE l.status = ANY(%s) GROUP BY ss.site_id ORDER BY 2 DESC""",
            [list(OPEN_STATUSES)],
        )
        return [(int(a), int(b)) for a, b in cursor.fetchall()]


def coordinator_of(site_id: int) -> Membership:
    member = (
        Membership.objects.filter(role=Role.COORDINATOR, restricted_sites=site_id, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    assert member is not None, f"no coordinator restricted to site {site_id}"
    return member


def deep_cursor(member: Membership, depth: int) -> str:
    leads = Lead.objects.filter(
        study_site__site__in=member.restricted_sites.all(), status__in=OPEN_STATUSES
    ).order_by("attention_at", "id")
    lead = leads[depth : depth + 1].first() or leads.last()
    assert lead is not None
    return cursor_of(lead)


def total_leads() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        return int(cursor.fetchone()[0])


def queue(runs: int) -> list[Result]:
    leads, results = total_leads(), []
    sizes = sites_by_size()
    variants = {"largest_site": sizes[0][0], "median_site": sizes[len(sizes) // 2][0]}
    for variant, site_id in variants.items():
        member = coordinator_of(site_id)
        client = Client(HTTP_HOST="localhost")
        client.force_login(member.user)
        results.append(measure_page(f"queue:{variant}", client, "/queue/", runs=runs, leads=leads))
        after = urllib.parse.quote(deep_cursor(member, 5000))
        results.append(
            measure_page(
                f"queue:{variant}_deep", client, f"/queue/?tab=open&after={after}",
                runs=runs, leads=leads, headers={"HX-Request": "true"},
            )
        )  # fmt: skip
    # The Waiting on records tab of the largest site: each row says how overdue and from whom.
    member = coordinator_of(sizes[0][0])
    client = Client(HTTP_HOST="localhost")
    client.force_login(member.user)
    results.append(
        measure_page("queue:records_tab", client, "/queue/?tab=records", runs=runs, leads=leads)
    )
    return results


def lead_page(runs: int) -> list[Result]:
    leads = total_leads()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lead_id FROM leads_activity GROUP BY lead_id HAVING count(*) = 50 LIMIT 1"
        )
        row = cursor.fetchone()
    assert row, "no lead with 50 activities: run generate_data"
    lead = Lead.objects.select_related("owner__user").get(pk=row[0])
    assert lead.owner is not None
    client = Client(HTTP_HOST="localhost")
    client.force_login(lead.owner.user)
    results = [measure_page("lead_page", client, f"/leads/{lead.code}/", runs=runs, leads=leads)]
    return [*results, _lead_page_with_records(runs, leads)]


def _lead_page_with_records(runs: int, leads: int) -> Result:
    """A lead at the records step with 30 record items (generate_data makes them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.lead_id FROM records_recorditem i JOIN leads_lead l ON l.id = i.lead_id
               WHERE l.status = 'records_pending'
               GROUP BY i.lead_id HAVING count(*) = 30 LIMIT 1"""
        )
        row = cursor.fetchone()
    assert row, "no lead with 30 record items: run generate_data"
    lead = Lead.objects.select_related("owner__user").get(pk=row[0])
    assert lead.owner is not None
    client = Client(HTTP_HOST="localhost")
    client.force_login(lead.owner.user)
    url = f"/leads/{lead.code}/"
    return measure_page("lead_page:records", client, url, runs=runs, leads=leads)
