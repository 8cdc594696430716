"""A coordinator works the queue by keyboard in a real browser."""

from __future__ import annotations

import pytest

from leads import services
from leads.models import Activity, Lead, Outcome
from tests.browser.test_shell import sign_in
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def leads(world):
    actor = Actor(user=None)
    made = []
    for first in ("Ada", "Grace", "Alan"):
        person = services.person_create(
            organization=world.org_a, actor=actor, first_name=first, phone="(312) 555-0142"
        )
        made.append(
            services.lead_create(
                person=person,
                study_site=world.study_site_a,
                source="web_form",
                owner=world.coordinator,
                actor=actor,
            )
        )
    return made


def test_a_coordinator_logs_an_attempt_by_keyboard(page, live_server, world, leads):
    sign_in(page, live_server, world.coordinator.user.email)
    page.keyboard.press("j")
    current = page.locator("tbody.lead-row.current")
    code = current.get_attribute("data-lead")

    page.keyboard.press("a")
    panel = page.locator(f"#panel-{code}")
    panel.locator("select[name=outcome]").wait_for()
    panel.locator("select[name=outcome]").select_option(Outcome.NO_ANSWER)
    panel.locator("button[type=submit]").click()

    page.locator(f"#lead-{code} .saved").wait_for()
    assert "follow-up attempt due in" in page.locator(f"#lead-{code} td.why").inner_text()
    lead = Lead.objects.get(code=code)
    assert lead.attempts == 1
    assert Activity.objects.filter(lead=lead, kind="contact_attempt").count() == 1
    assert page.console_errors == []


def test_the_help_overlay_opens_on_question_mark_and_enter_opens_the_lead(
    page, live_server, world, leads
):
    sign_in(page, live_server, world.coordinator.user.email)
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    code = page.locator("tbody.lead-row.current").get_attribute("data-lead")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/leads/{code}/")
    assert page.get_by_role("heading", level=1).inner_text() in {"Ada", "Grace", "Alan"}


def test_reloading_after_opening_an_inline_action_stays_on_the_queue(
    page, live_server, world, leads
):
    sign_in(page, live_server, world.coordinator.user.email)
    queue_url = f"{live_server.url}/queue/?tab=open&owner=me"
    page.goto(queue_url)

    page.keyboard.press("j")
    code = page.locator("tbody.lead-row.current").get_attribute("data-lead")
    page.keyboard.press("a")
    page.locator(f"#panel-{code} select[name=outcome]").wait_for()
    other = page.locator("tbody.lead-row").nth(1)
    other.get_by_role("link", name="Snooze").click()
    page.locator(f"#panel-{other.get_attribute('data-lead')} input[name=until]").wait_for()
    assert page.url == queue_url

    page.reload()

    assert page.url == queue_url
    assert page.get_by_role("heading", level=1).inner_text() == "Queue"
    assert page.locator("tbody.lead-row").count() == 3
    assert page.console_errors == []


def test_opening_an_action_on_the_lead_page_keeps_its_address(page, live_server, world, leads):
    sign_in(page, live_server, world.coordinator.user.email)
    lead_url = f"{live_server.url}/leads/{leads[0].code}/"
    page.goto(lead_url)

    page.get_by_role("navigation", name="More actions").get_by_role("link", name="Snooze").click()
    page.locator("#lead-panel input[name=until]").wait_for()

    assert page.url == lead_url
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Ada"


def test_a_saved_inline_action_without_javascript_returns_to_the_same_queue_page(
    browser, live_server, world, leads
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, world.coordinator.user.email)
        queue_url = f"{live_server.url}/queue/?tab=open&owner=me"
        page.goto(queue_url)
        page.locator("tbody.lead-row").first.get_by_role("link", name="Note").click()
        page.get_by_label("Note").fill("Prefers an evening call")
        page.get_by_role("button", name="Save").click()

        page.get_by_text("Add a note: saved.").wait_for()  # the queue again, without JavaScript
        assert page.url == queue_url
    finally:
        context.close()
