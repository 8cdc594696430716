"""A coordinator requests a record from the lead page's records panel: the form opens in the
panel (htmx), and after saving the page shows the request and the lead's new blocker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Status
from leads.services import lead_change_status
from records.services import provider_create, requirement_create
from tests.browser.test_shell import sign_in
from tests.factories import new_lead
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_coordinator_requests_a_record_from_the_panel(page, live_server, world):
    actor = Actor(user=world.site_lead.user)
    requirement_create(
        study_site=world.study_site_a, name="HbA1c", required=True, lookback_days=90,
        instructions="Most recent result", actor=actor,
    )  # fmt: skip
    provider_create(
        organization_id=world.org_a.pk, actor=actor, practice="Denver Family Practice",
        fax="+13035550199",
    )  # fmt: skip
    lead = new_lead(study_site=world.study_site_a, person__first_name="Ada")
    lead = lead_change_status(lead=lead, status=Status.PRESCREENING, actor=actor)
    lead = lead_change_status(lead=lead, status=Status.RECORDS_PENDING, actor=actor)

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
