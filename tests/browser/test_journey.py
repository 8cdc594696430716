"""The journey in a real browser, one person from interest to a records request, with a
screenshot of each main screen in artifacts/screens/journey-*.png:

a visitor finds the study and sends their interest;
the coordinator signs in with their second factor, finds the lead at the top of the queue with
its reason, logs a call, conducts the prescreen and requests a record; the site lead's
dashboard opens; the sponsor viewer sees their report and cannot reach the lead's page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from leads.models import Activity, ActivityKind, Lead, Status
from tests.browser.test_records import records_checklist
from tests.browser.test_shell import sign_in
from tests.factories import PASSWORD
from tests.prescreen.conftest import build_questionnaire

pytestmark = pytest.mark.django_db(transaction=True)
SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


def _shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENS / f"journey-{name}.png", full_page=True)


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (one per person), all closed afterwards."""
    contexts = []

    def make():
        contexts.append(browser.new_context())
        return contexts[-1].new_page()

    yield make
    for context in contexts:
        context.close()


def test_from_interest_to_a_records_request(new_page, live_server, world, settings):
    settings.INTEREST_RATE_LIMIT = "1000/minute"
    build_questionnaire(world.study_site_a, records_checklist(world))
    coordinator = world.coordinator.user
    device = TOTPDevice.objects.create(user=coordinator, name="Authenticator app", confirmed=True)
    coordinator.two_factor_enabled = True
    coordinator.save(update_fields=["two_factor_enabled"])
    study = world.study_site_a.study

    visitor = new_page()
    visitor.goto(f"{live_server.url}/studies/")
    visitor.get_by_label("Words").fill(study.brief_title)
    visitor.get_by_role("button", name="Search").click()
    visitor.get_by_role("link", name=study.brief_title).first.click()
    visitor.get_by_label("First name").fill("Journey")
    visitor.get_by_label("Last name").fill("Walker")
    visitor.get_by_label("Phone number").fill("312 263 0177")
    visitor.get_by_label("ZIP code").fill("60601")
    visitor.get_by_label("Phone calls: the study team may call me").check()
    _shot(visitor, "1-public-form")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Thank you: we received your interest"
    )
    _shot(visitor, "2-thanks")
    lead = Lead.objects.get(person__last_name="Walker")

    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(coordinator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/queue/")
    first_row = page.locator("tbody.lead-row").first
    expect(first_row).to_contain_text("Journey Walker")
    assert first_row.locator(".why").inner_text().strip()  # why it is at the top
    _shot(page, "3-queue")

    first_row.get_by_role("link", name="Journey Walker").click()
    page.wait_for_url(f"{live_server.url}/leads/{lead.code}/")
    attempt = page.locator("form", has=page.get_by_role("button", name="Log attempt"))
    attempt.get_by_label("Outcome").select_option(label="Reached")
    attempt.get_by_label("Note").fill("Keen; mornings are best")
    attempt.get_by_role("button", name="Log attempt").click()
    expect(page.get_by_text("Keen; mornings are best")).to_be_visible()
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CONTACT_ATTEMPT).exists()
    _shot(page, "4-lead-after-call")

    page.get_by_role("link", name="Conduct the prescreen").click()
    page.locator(".prescreen-panel #prescreen-form").wait_for()
    prescreen = page.locator("#prescreen-form")
    prescreen.get_by_label("How old are you?").fill("52")
    prescreen.get_by_role("radio", name="Yes").first.check()
    prescreen.get_by_role("button", name="Submit answers for a result").click()
    page.get_by_role("button", name="Record the result").wait_for()
    _shot(page, "5-prescreen-result")
    page.get_by_role("button", name="Record the result").click()
    page.get_by_text("Records pending").first.wait_for()

    panel = page.locator("#records")
    panel.get_by_role("link", name="Request").click()
    form = panel.locator("form")
    form.get_by_label("Provider").select_option(label="Denver Family Practice")
    form.get_by_label("A signed HIPAA authorisation is on file").check()
    form.get_by_role("button", name="Request the record").click()
    expect(page.locator("#records")).to_contain_text("from Denver Family Practice by fax")
    _shot(page, "6-records-requested")
    assert Lead.objects.get(pk=lead.pk).status == Status.RECORDS_PENDING

    lead_page = new_page()
    sign_in(lead_page, live_server, world.site_lead.user.email)
    lead_page.goto(f"{live_server.url}/dashboard/")
    expect(lead_page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    _shot(lead_page, "7-dashboard")

    sponsor = new_page()
    sign_in(sponsor, live_server, world.sponsor_viewer.email)
    assert sponsor.url == f"{live_server.url}/reports/"
    _shot(sponsor, "8-sponsor-reports")
    answer = sponsor.goto(f"{live_server.url}/leads/{lead.code}/")
    assert answer is not None
    assert answer.status == 404  # no staff page exists for a sponsor, like another org's lead
    assert "Walker" not in sponsor.content()
