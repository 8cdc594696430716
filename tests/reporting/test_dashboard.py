from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reporting.rollups import cohorts_rebuild
from tests.conftest import signed_in
from tests.reporting.helpers import spread_leads

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_the_funnel_of_the_rollups(world):
    now = timezone.now()
    leads = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=60, now=now)
    cohorts_rebuild(now=now)
    response = signed_in(world.site_lead.user).get("/dashboard/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Is it improving?" in body
    assert "<svg" in body
    # All 60 leads were received within the default 90 days.
    assert "<td>Received</td><td><a href=" in body
    assert f'title="The leads behind this figure">{len(leads)}</a>' in body


def test_the_dashboard_queries_do_not_grow_with_the_leads(world, django_assert_num_queries):
    now = timezone.now()
    client = signed_in(world.site_lead.user)
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=20, now=now)
    cohorts_rebuild(now=now)
    client.get("/dashboard/")  # warm: the session and the membership
    with CaptureQueriesContext(connection) as few:
        client.get("/dashboard/")
    assert len(few.captured_queries) <= 14
    spread_leads(study_site=world.study_site_a2, owner=world.site_lead, n=200, now=now, seed=3)
    cohorts_rebuild(now=now)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/dashboard/").status_code == 200


def test_a_start_after_the_end_is_told_next_to_the_field(world):
    response = signed_in(world.site_lead.user).get(
        "/dashboard/", {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert response.status_code == 422
    assert "The start must be on or before the end." in response.content.decode()


def test_the_csv_export_has_the_figures_of_the_page(world):
    now = timezone.now()
    leads = spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=30, now=now)
    cohorts_rebuild(now=now)
    response = signed_in(world.site_lead.user).get("/dashboard/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("group,value,received,contacted")
    assert lines[1].startswith(f"all,all,{len(leads)},")


def test_the_htmx_request_gets_only_the_figures(world):
    response = signed_in(world.site_lead.user).get("/dashboard/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="figures">')
    assert "<html" not in body


def test_the_last_full_week_is_compared_with_the_four_before(world):
    from datetime import date, datetime, timedelta

    from leads.models import Lead
    from reporting.selectors import Filters, weekly_trends

    today = date(2026, 6, 17)  # a Wednesday
    monday = date(2026, 6, 15)
    leads = spread_leads(
        study_site=world.study_site_a, owner=world.coordinator, n=50, now=timezone.now()
    )
    # 10 leads in each of the five full weeks before, 30 in the last one.
    for k, lead in enumerate(leads):
        week = 1 if k < 30 else 2 + (k - 30) // 5
        at = datetime.combine(monday - timedelta(weeks=week), datetime.min.time(), UTC)
        Lead.objects.filter(pk=lead.pk).update(received_at=at + timedelta(hours=10))
    from reporting.rollups import cohorts_rebuild as rebuild

    rebuild()
    trends = weekly_trends(
        organization_id=world.org_a.pk, filters=Filters(today, today), today=today
    )
    received = trends[0]
    assert received.this_week == 30
    assert received.before == 5
    assert received.direction == "up"
    assert received.beyond_noise


def test_the_dashboard_says_what_changed_since_the_last_review(world):
    from datetime import timedelta

    from leads.models import CloseReason, Lead, Status
    from reporting.models import Review
    from tests.factories import new_lead

    now = timezone.now()
    Review.objects.create(
        organization=world.org_a, week_start=now.date(), created_by=world.site_lead.user
    )
    Review.objects.filter(organization=world.org_a).update(created_at=now - timedelta(days=3))
    before = new_lead(study_site=world.study_site_a)  # moved before the review: not counted
    Lead.objects.filter(pk=before.pk).update(
        status=Status.CONTACTING,
        status_changed_at=now - timedelta(days=5),
        last_movement_at=now - timedelta(days=5),
    )
    after = new_lead(study_site=world.study_site_a)
    Lead.objects.filter(pk=after.pk).update(
        status=Status.CLOSED,
        close_reason=CloseReason.UNREACHABLE,
        status_changed_at=now - timedelta(days=1),
        last_movement_at=now - timedelta(days=1),
        next_action="",
        next_action_due_at=None,
    )
    marked = new_lead(study_site=world.study_site_a)
    Lead.objects.filter(pk=marked.pk).update(stale_marked_at=now - timedelta(hours=5))
    client = signed_in(world.site_lead.user)
    page = client.get("/dashboard/").content.decode()
    assert 'hx-get="/dashboard/changes/?' in page  # loaded after the page
    changed = client.get("/dashboard/changes/", headers={"HX-Request": "true"}).content.decode()
    assert "<td>0</td><td>0</td><td>1</td><td>Unreachable: 1</td>" in changed


def test_the_open_leads_summary_counts_each_lead_where_the_leads_say(world):
    """Owners, lanes and longest waits come from one read; each figure is what counting the
    leads one by one gives."""
    from leads.models import OPEN_STATUSES, Lead
    from reporting.selectors import open_leads_summary

    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=40, now=now)
    spread_leads(study_site=world.study_site_a2, owner=world.site_lead, n=30, now=now, seed=5)
    summary = open_leads_summary(organization_id=world.org_a.pk, study_site_ids=None, now=now)
    open_leads = list(Lead.objects.filter(organization_id=world.org_a.pk, status__in=OPEN_STATUSES))
    stalled = [lead for lead in open_leads if lead.stale_at and lead.stale_at <= now]
    assert summary["lanes"] == {
        "new": sum(1 for x in open_leads if x.status == "new" and x not in stalled),
        "active": sum(
            1 for x in open_leads
            if x.status not in ("new", "visit_scheduled") and x not in stalled
        ),
        "stalled": len(stalled),
        "scheduled": sum(
            1 for x in open_leads if x.status == "visit_scheduled" and x not in stalled
        ),
    }  # fmt: skip
    assert sum(summary["lanes"].values()) == len(open_leads)
    for wait in summary["waits"]:
        at_stage = [x for x in open_leads if x.status == wait["status"]]
        assert wait["waiting"] == len(at_stage)
        assert wait["since"] == min((x.status_changed_at for x in at_stage), default=None)
    by_owner = {row["owner_id"]: row for row in summary["owners"]}
    assert set(by_owner) == {world.coordinator.pk, world.site_lead.pk}
    mine = [x for x in open_leads if x.owner_id == world.coordinator.pk]
    assert by_owner[world.coordinator.pk] == {
        "owner_id": world.coordinator.pk,
        "owner__user__email": world.coordinator.user.email,
        "owner__user__first_name": world.coordinator.user.first_name,
        "open": len(mine),
        "due": sum(1 for x in mine if x.next_action_due_at and x.next_action_due_at <= now),
        "sla_overdue": sum(1 for x in mine if x.first_contact_at is None and x.sla_due_at < now),
        "stale": sum(1 for x in mine if x.stale_at and x.stale_at <= now),
    }
    assert [row["open"] for row in summary["owners"]] == sorted(
        (row["open"] for row in summary["owners"]), reverse=True
    )
    # A study-site filter narrows every figure.
    only_a2 = open_leads_summary(
        organization_id=world.org_a.pk, study_site_ids=[world.study_site_a2.pk], now=now
    )
    assert {row["owner_id"] for row in only_a2["owners"]} == {world.site_lead.pk}
    assert sum(only_a2["lanes"].values()) == sum(
        1 for x in open_leads if x.study_site_id == world.study_site_a2.pk
    )


def test_the_open_leads_summary_reads_only_columns_the_lead_sla_index_holds(world):
    """An index-only scan at a million leads: every column the summary's read of the leads
    (and the newly stalled and newly stale counts') names is a key or an included column of
    lead_sla, and its filter is that index's own."""
    import re

    from leads.models import OPEN_Q, Lead
    from reporting.review import movement
    from reporting.selectors import open_leads_summary

    index = next(i for i in Lead._meta.indexes if i.name == "lead_sla")
    fields = {Lead._meta.get_field(name) for name in (*index.fields, *index.include)}
    held = {field.column for field in fields}
    for study_site_ids in (None, [world.study_site_a.pk]):
        with CaptureQueriesContext(connection) as queries:
            open_leads_summary(
                organization_id=world.org_a.pk, study_site_ids=study_site_ids, now=timezone.now()
            )
        (read,) = [q["sql"] for q in queries if 'FROM "leads_lead"' in q["sql"]]
        named = set(re.findall(r'"leads_lead"\."(\w+)"', read))
        assert {"owner_id", "status_changed_at"} <= named
        assert named <= held, named - held
        now = timezone.now()
        with CaptureQueriesContext(connection) as queries:
            movement(organization_id=world.org_a.pk, study_site_ids=study_site_ids,
                     since=now - timedelta(days=7), now=now)  # fmt: skip
        stale_reads = [q["sql"] for q in queries if "stale_marked_at" in q["sql"]]
        assert len(stale_reads) == 2
        for read in stale_reads:
            named = set(re.findall(r'"leads_lead"\."(\w+)"', read))
            assert named <= held, named - held
    assert index.condition == OPEN_Q
