"""The journey in a real browser, one person from interest to a booked visit, with a
screenshot of each main screen in artifacts/screens/journey-*.png:

a visitor finds the study, follows the clinic's link to it and sends their interest with the
site's public prescreen questions (and sees no verdict); the coordinator signs in with their
second factor, finds the lead at the top of the queue with its reason, logs a call, goes on
with the prescreen from the visitor's answers and requests a record; the record comes back and
is reviewed; the visit is booked from next week's free slots, its e-mail carries the calendar
file, and its reminder goes once; the site lead's dashboard shows the person's way through the
funnel; the sponsor viewer sees their report and is told the lead's page does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from leads.models import Activity, ActivityKind, Lead, Status
from leads.outreach.models import OutboundMessage
from leads.outreach.services.sending import message_deliver
from prescreen.models import PrescreenResponse
from records.dates import site_today
from reporting.rollups import cohorts_rebuild
from scheduling.models import Appointment
from scheduling.reminders import appointment_reminders_queue
from tests.browser.test_records import records_checklist
from tests.browser.test_shell import sign_in
from tests.factories import PASSWORD
from tests.prescreen.conftest import build_questionnaire
from tests.scheduling.objects import bookable

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
    bookable(world.study_site_a)
    coordinator = world.coordinator.user
    device = TOTPDevice.objects.create(user=coordinator, name="Authenticator app", confirmed=True)
    coordinator.two_factor_enabled = True
    coordinator.save(update_fields=["two_factor_enabled"])
    study = world.study_site_a.study

    visitor = new_page()
    visitor.goto(f"{live_server.url}/studies/")
    visitor.get_by_label("Words").fill(study.brief_title)
    visitor.get_by_role("button", name="Search").click()
    expect(visitor.get_by_role("link", name=study.brief_title).first).to_be_visible()
    # They follow the clinic's own link to the study (its flyer and website give it): that
    # site's public questions come with the form.
    visitor.goto(f"{live_server.url}/studies/sites/{world.study_site_a.code}/")
    visitor.get_by_label("First name").fill("Journey")
    visitor.get_by_label("Last name").fill("Walker")
    visitor.get_by_label("Phone number").fill("312 263 0177")
    visitor.get_by_label("ZIP code").fill("60601")
    visitor.get_by_label("E-mail address").fill("journey.walker@example.org")
    visitor.get_by_label("Phone calls: the study team may call me").check()
    visitor.get_by_label("E-mail: the study team may e-mail me").check()
    visitor.get_by_label("How old are you?").fill("52")  # the study's public questions
    visitor.get_by_role("radio", name="No").first.check()
    _shot(visitor, "1-public-form")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Thank you: we received your interest"
    )
    _shot(visitor, "2-thanks")
    lead = Lead.objects.get(person__last_name="Walker")
    (answered,) = PrescreenResponse.objects.filter(lead=lead)  # arrived with the lead
    assert answered.answers.filter(question__text="How old are you?").exists()
    assert "fit" not in visitor.content().lower()  # the visitor is never shown a verdict

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

    # The visitor's own answers are there; the coordinator goes on from them.
    page.get_by_role("link", name="Continue the prescreen").click()
    page.locator(".prescreen-panel #prescreen-form").wait_for()
    prescreen = page.locator("#prescreen-form")
    expect(prescreen.get_by_label("How old are you?")).to_have_value("52")
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

    # The practice sends the record; the coordinator marks it received and reviews it.
    panel.get_by_role("link", name="Mark received").click()
    form = panel.locator("form")
    # The site's today (the server's UTC date is a day ahead of Chicago's after 18:00 there).
    today = site_today(lead.study_site.site, timezone.now())
    form.get_by_label("Date of the record").fill(today.isoformat())
    form.get_by_role("button", name="Mark the record received").click()
    panel.get_by_role("link", name="Review").click()
    form = panel.locator("form")
    form.get_by_role("radio", name="Sufficient", exact=True).check()
    form.get_by_role("button", name="Review the record").click()
    expect(page.locator("#records")).to_contain_text("1 of 1 required record reviewed sufficient")
    assert Lead.objects.get(pk=lead.pk).status == Status.RECORDS_READY

    # The visit: next week's first free slot, booked from the lead page; the e-mail to the
    # person carries the calendar file.
    page.goto(f"{live_server.url}/leads/{lead.code}/")
    page.get_by_role("link", name="Schedule a visit").click()
    with page.expect_response(lambda response: "week=" in response.url):
        page.get_by_role("link", name="Next week →").click()
    page.locator("#week button[type=submit]").first.click()
    expect(page.locator("body")).to_contain_text("Booked")
    _shot(page, "7-visit-booked")
    appointment = Appointment.objects.get(lead=lead)
    assert Lead.objects.get(pk=lead.pk).status == Status.VISIT_SCHEDULED
    confirmation = OutboundMessage.objects.get(lead=lead, channel="email", calendar__gt="")
    # Sent at once in the day; held for the morning when it is night in Chicago.
    with time_machine.travel(appointment.starts_at - timedelta(hours=1), tick=False):
        assert message_deliver(message_id=confirmation.pk) == "sent"
    invitation = next(m for m in mail.outbox if m.to == ["journey.walker@example.org"])
    (ics,) = [a for a in invitation.attachments if str(a[0]).endswith(".ics")]
    assert f"UID:{appointment.code}" in str(ics[1]).replace("\r\n ", "")

    # Its reminder 48 h before goes once, however often the scan runs.
    due = appointment.starts_at - timedelta(hours=48)
    assert appointment_reminders_queue(now=due) == 1
    assert appointment_reminders_queue(now=due) == 0
    reminder = OutboundMessage.objects.get(lead=lead, idempotency_key__endswith=":48h")
    with time_machine.travel(appointment.starts_at - timedelta(hours=1), tick=False):
        assert message_deliver(message_id=reminder.pk) == "sent"
        assert message_deliver(message_id=reminder.pk) == "sent"  # and not sent again
    sent = [m for m in mail.outbox if m.subject == "Your study visit"]
    assert len(sent) == 1
    cohorts_rebuild()  # the nightly rebuild of the dashboard's figures (beat refreshes moves)

    lead_page = new_page()
    sign_in(lead_page, live_server, world.site_lead.user.email)
    lead_page.goto(f"{live_server.url}/dashboard/")
    expect(lead_page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    # The person's way shows in the funnel: received, contacted, prescreened, records ready,
    # scheduled, each with this one lead.
    for stage in ("Received", "Records ready", "Scheduled"):
        expect(lead_page.get_by_role("row", name=f"{stage} 1", exact=False).first).to_be_visible()
    _shot(lead_page, "8-dashboard")

    sponsor = new_page()
    sign_in(sponsor, live_server, world.sponsor_viewer.email)
    assert sponsor.url == f"{live_server.url}/reports/"
    _shot(sponsor, "9-sponsor-reports")
    answer = sponsor.goto(f"{live_server.url}/leads/{lead.code}/")
    assert answer is not None
    assert answer.status == 404  # no staff page exists for a sponsor, like another org's lead
    assert "Walker" not in sponsor.content()
