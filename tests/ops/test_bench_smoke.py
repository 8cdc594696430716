"""The benchmark harness on 1,000 leads, each scenario once: it must never rot.

Figures at this size mean nothing and no target applies; `make bench` measures.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from leads.models import Activity, Lead, OptOut
from leads.outreach.models import OutboundMessage
from prescreen.models import PrescreenResponse, QuestionnaireVersion
from records.models import RecordItem
from trialsnest.ops.models import OutboxMessage

KEYS = {
    "scenario", "leads", "p50_ms", "p95_ms", "p99_ms", "queries", "rps", "seconds",
    "rows_per_s", "peak_mb", "floor_ms", "ratio",
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_generate_data_and_every_scenario_run_on_a_small_database():
    out = StringIO()
    call_command("generate_data", "--leads", "1000", stdout=out)
    assert Lead.objects.count() == 1000
    assert 2000 <= Activity.objects.count() <= 9000
    with_records = RecordItem.objects.values("lead_id").distinct().count()
    assert 150 <= with_records <= 250  # about a fifth of the leads
    assert "generated 1000 leads" in out.getvalue()
    # About a third of the leads are prescreened, every StudySite has a published version.
    assert 200 <= PrescreenResponse.objects.count() <= 450
    assert QuestionnaireVersion.objects.filter(status="published").count() >= 12

    out = StringIO()
    call_command(
        "bench", "--json", "--runs", "1", "--seconds", "1", "--csv-rows", "300", stdout=out
    )
    results = [json.loads(line) for line in out.getvalue().splitlines()]

    names = {r["scenario"] for r in results}
    assert names == {
        "queue:largest_site",
        "queue:largest_site_deep",
        "queue:median_site",
        "queue:median_site_deep",
        "queue:records_tab",
        "queue_http",
        "lead_page",
        "lead_page:records",
        "csv_import",
        "interest_form",
        "interest_form_redis_down",
        "reassign_all",
        "prescreen_submit",
        "inbound_sms",
        "free_slots",
        "book_contended",
        "stale_sweep:full",
        "stale_sweep:daily",
        "due_scan",
        "notifications_poll",
        "reminders",
        "rollup",
        "rollup_incremental",
        "dashboard",
        "sponsor_report",
    }
    for result in results:
        assert set(result) == KEYS
        assert result["leads"] == 1000
        if result["scenario"] != "csv_import":
            assert result["p50_ms"] > 0
    for result in results:
        if result["scenario"] not in (
            "queue_http",
            "csv_import",
            "interest_form",
            "interest_form_redis_down",
            "reassign_all",
            "prescreen_submit",
            "inbound_sms",
            "free_slots",
            "book_contended",
            "stale_sweep:full",
            "stale_sweep:daily",
            "due_scan",
            "reminders",
            "rollup",
            "rollup_incremental",
            "dashboard",
        ):
            # The lead page's budget is 12 (tests/leads/test_query_counts.py), the rest 10.
            budget = 12 if result["scenario"].startswith("lead_page") else 10
            assert 0 < result["queries"] <= budget, result["scenario"]
            assert result["floor_ms"] > 0
    http = next(r for r in results if r["scenario"] == "queue_http")
    assert http["rps"] > 0
    form = next(r for r in results if r["scenario"] == "interest_form")
    assert form["rps"] > 0
    down = next(r for r in results if r["scenario"] == "interest_form_redis_down")
    assert down["rps"] > 0
    assert not OutboxMessage.objects.exists()  # what the benchmark left waiting is removed
    prescreen = next(r for r in results if r["scenario"] == "prescreen_submit")
    assert prescreen["p50_ms"] > 0
    assert 0 < prescreen["queries"] <= 60
    texts = next(r for r in results if r["scenario"] == "inbound_sms")
    assert texts["rps"] > 0
    assert not OptOut.objects.exists()  # the opt-outs it recorded are removed
    reassign = next(r for r in results if r["scenario"] == "reassign_all")
    assert reassign["p50_ms"] > 0
    assert reassign["rows_per_s"] > 0
    assert 0 < reassign["queries"] <= 40  # a write of its own: not the pages' budget
    assert not Lead.objects.filter(owner__user__email__startswith="leaving.").exists()
    contended = next(r for r in results if r["scenario"] == "book_contended")
    assert contended["queries"] == 1  # exactly one of fifty bookings of one slot won
    assert contended["p99_ms"] > 0
    assert next(r for r in results if r["scenario"] == "free_slots")["p50_ms"] > 0
    full = next(r for r in results if r["scenario"] == "stale_sweep:full")
    assert full["seconds"] > 0
    assert full["floor_ms"] > 0
    assert full["ratio"] > 0
    assert not Lead.objects.filter(stale_marked_at__isnull=False).exists()  # rolled back
    assert next(r for r in results if r["scenario"] == "due_scan")["p50_ms"] > 0
    poll = next(r for r in results if r["scenario"] == "notifications_poll")
    assert poll["queries"] == 1
    reminders = next(r for r in results if r["scenario"] == "reminders")
    assert reminders["rows_per_s"] > 0
    assert not OutboundMessage.objects.filter(
        idempotency_key__startswith="visit-reminder:"
    ).exists()
    csv_result = next(r for r in results if r["scenario"] == "csv_import")
    assert csv_result["rows_per_s"] > 0
    assert csv_result["peak_mb"] > 0
