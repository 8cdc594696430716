"""Every benchmark scenario by name, as `manage.py bench` runs them."""

from __future__ import annotations

from collections.abc import Callable

from trialsnest.bench import (
    automation,
    csv_import,
    inbound_sms,
    over_http,
    pages,
    prescreen,
    reporting,
    scheduling,
    team,
)
from trialsnest.bench.measure import Result

# Rows of the csv_import scenario: 100,000 at full size, fewer for smoke runs (`--csv-rows`).
CSV_ROWS = 100_000

SCENARIOS: dict[str, Callable[[int, float], list[Result]]] = {
    "queue": lambda runs, seconds: pages.queue(runs),
    "queue_http": lambda runs, seconds: over_http.queue_http(seconds),
    "lead_page": lambda runs, seconds: pages.lead_page(runs),
    "interest_form": lambda runs, seconds: over_http.interest_form(seconds),
    # The broker stopped: the form keeps every submission (posts/s and p99 without Redis).
    "interest_form_redis_down": lambda runs, seconds: over_http.interest_form(
        seconds, redis_down=True
    ),
    # A site lead confirms "spread fairly" for 10,000 open leads of someone who leaves (each run
    # undone, the leads given back to their owners at the end).
    "reassign_all": lambda runs, seconds: team.reassign_all(runs),
    # Score, save and confirm a complete prescreen (the lead moves on to records).
    "prescreen_submit": lambda runs, seconds: prescreen.prescreen_submit(runs),
    # STOP texts through the webhook, each recorded as an opt-out (texts/s; all undone after).
    "inbound_sms": lambda runs, seconds: inbound_sms.inbound_sms(seconds),
    # A site with 20 resources, two weeks of free slots; fifty bookings of one slot at once.
    "free_slots": lambda runs, seconds: scheduling.free_slots_scenario(runs),
    "book_contended": lambda runs, seconds: scheduling.book_contended(runs),
    # Automation (issue 13): the stale sweep over the whole table and a day's increment (each
    # rolled back), what falls due in the next 5 minutes, and the bell's poll.
    "stale_sweep": lambda runs, seconds: automation.stale_sweep_scenario(runs),
    "due_scan": lambda runs, seconds: automation.due_scan(runs),
    "notifications_poll": lambda runs, seconds: automation.notifications_poll(runs),
    "reminders": lambda runs, seconds: automation.reminders(runs),
    # Reporting: the rollups first (the dashboard and the sponsor report read them).
    "rollup": lambda runs, seconds: reporting.rollup(runs),
    "dashboard": lambda runs, seconds: reporting.dashboard(runs),
    "sponsor_report": lambda runs, seconds: reporting.sponsor_report(runs),
    # Last: it adds leads to the database the other scenarios measure.
    "csv_import": lambda runs, seconds: csv_import.csv_import_scenario(CSV_ROWS),
}
