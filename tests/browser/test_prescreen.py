"""A coordinator prescreens a lead with the keyboard and sees it move to records; the prescreen
pages have no serious accessibility violation."""

from __future__ import annotations

import pytest

from leads.models import Lead, Status
from prescreen.models import PrescreenResponse, ResponseStatus
from tests.browser.axe import report
from tests.browser.test_accessibility import _check, sized_page  # noqa: F401
from tests.browser.test_shell import sign_in
from tests.factories import new_lead
from tests.prescreen.conftest import build_questionnaire
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_coordinator_prescreens_by_keyboard_and_the_lead_moves_to_records(
    page, live_server, world
):
    build_questionnaire(world.study_site_a, Actor(world.site_lead.user))
    lead = new_lead(study_site=world.study_site_a, person__first_name="Maria")
    sign_in(page, live_server, world.coordinator.user.email)
    page.goto(f"{live_server.url}/leads/{lead.code}/")

    page.get_by_role("link", name="Conduct the prescreen").focus()
    page.keyboard.press("Enter")  # htmx loads the questions into the lead page's panel
    page.locator(".prescreen-panel #prescreen-form").wait_for()
    assert page.url == f"{live_server.url}/leads/{lead.code}/"
    page.get_by_label("How old are you?").focus()
    page.keyboard.type("52")
    page.keyboard.press("Tab")  # onto the first radio of the next question: "Yes"
    page.keyboard.press("Space")
    page.get_by_role("button", name="Submit answers for a result").focus()
    page.keyboard.press("Enter")

    outcome = page.get_by_role("heading", name="Computed result: Likely fit")
    outcome.wait_for()
    assert "the study team makes the final decision" in page.locator("#prescreen-form").inner_text()
    page.get_by_role("button", name="Record the result").focus()
    page.keyboard.press("Enter")

    page.wait_for_url(f"{live_server.url}/leads/{lead.code}/")
    page.get_by_text("Records pending").first.wait_for()
    assert Lead.objects.get(pk=lead.pk).status == Status.RECORDS_PENDING
    assert PrescreenResponse.objects.get(lead=lead).status == ResponseStatus.CONFIRMED
    assert "Recorded: Likely fit" in page.locator(".prescreen-panel").inner_text()
    assert page.console_errors == []


def test_the_prescreen_pages_have_no_serious_violations(
    sized_page,  # noqa: F811  (the accessibility tests' fixture: a laptop and a phone)
    live_server,
    world,
):
    version = build_questionnaire(world.study_site_a, Actor(world.site_lead.user))
    lead = new_lead(study_site=world.study_site_a, person__first_name="Maria")
    page, found = sized_page, {}
    sign_in(page, live_server, world.site_lead.user.email)

    page.goto(f"{live_server.url}/leads/{lead.code}/prescreen/")
    page.get_by_role("button", name="Submit answers for a result").click()  # errors shown
    page.locator(".errors").first.wait_for()
    _check(page, found)
    page.get_by_label("How old are you?").fill("15")
    page.get_by_label("No").first.check()
    page.get_by_role("button", name="Submit answers for a result").click()
    page.get_by_role("heading", name="Computed result: Not a fit").wait_for()
    _check(page, found)
    page.goto(f"{live_server.url}/prescreen/study-sites/{world.study_site_a.code}/")
    _check(page, found)
    page.goto(f"{live_server.url}/prescreen/questions/{version.questions.first().code}/")
    _check(page, found)
    for prefix in ("", "/es"):
        page.goto(f"{live_server.url}{prefix}/studies/sites/{world.study_site_a.code}/")
        _check(page, found)

    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])
