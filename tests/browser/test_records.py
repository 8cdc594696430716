"""A coordinator requests a record from the lead page's records panel: the form opens in the
panel (htmx), and after saving the page shows the request and the lead's new blocker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Status
from leads.services import lead_change_status
from records.services import provider_create, requirement_create
from tests.browser.axe import report, serious_violations
from tests.browser.test_shell import sign_in
from tests.factories import new_lead
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def records_checklist(world) -> Actor:
    """Study site A asks for an HbA1c; org A knows a practice to ask. Set by the site lead."""
    actor = Actor(user=world.site_lead.user)
    requirement_create(
        study_site=world.study_site_a, name="HbA1c", required=True, lookback_days=90,
        instructions="Most recent result", actor=actor,
    )  # fmt: skip
    provider_create(
        organization_id=world.org_a.pk, actor=actor, practice="Denver Family Practice",
        fax="+13035550199",
    )  # fmt: skip
    return actor


def _records_lead(world):
    actor = records_checklist(world)
    lead = new_lead(study_site=world.study_site_a, person__first_name="Ada")
    lead = lead_change_status(lead=lead, status=Status.PRESCREENING, actor=actor)
    return lead_change_status(lead=lead, status=Status.RECORDS_PENDING, actor=actor)


def test_a_coordinator_requests_a_record_from_the_panel(page, live_server, world):
    lead = _records_lead(world)

    sign_in(page, live_server, world.coordinator.user.email)
    page.goto(f"{live_server.url}/leads/{lead.code}/")
    panel = page.locator("#records")
    expect(panel).to_contain_text("0 of 1 required record reviewed sufficient")
    panel.get_by_role("link", name="Request").click()

    form = panel.locator("form")
    expect(form).to_contain_text("Most recent result")
    assert page.url.endswith(f"/leads/{lead.code}/")  # the form opened in place
    form.get_by_label("Provider").select_option(label="Denver Family Practice")
    form.get_by_label("A signed HIPAA authorisation is on file").check()
    form.get_by_role("button", name="Request the record").click()

    expect(page.locator("#records")).to_contain_text("from Denver Family Practice by fax")
    expect(page.locator("#records")).to_contain_text("HIPAA authorisation on file")
    expect(page.locator(".state .blocker")).to_have_text("Missing records")
    assert page.console_errors == []


def test_the_records_pages_have_no_serious_violations(browser, live_server, world):
    lead = _records_lead(world)
    # axe is injected as a script: the page's CSP (tested elsewhere) would refuse it.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 900})
    page, found = context.new_page(), {}
    sign_in(page, live_server, world.site_lead.user.email)

    page.goto(f"{live_server.url}/leads/{lead.code}/")
    page.locator("#records").get_by_role("link", name="Request").click()
    page.locator("#records form").wait_for()
    for path in (
        None,
        f"/leads/{lead.code}/records/",
        f"/leads/{lead.code}/records/letters/",
        f"/study-sites/{world.study_site_a.code}/records/",
        "/records/providers/",
    ):
        if path:
            page.goto(f"{live_server.url}{path}")
        if violations := serious_violations(page):
            found[page.url] = violations
    context.close()

    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])
