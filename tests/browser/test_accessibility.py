"""axe-core finds no serious or critical violation on the staff and public pages, on a laptop
(1366 px) and on a phone (375 px)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from leads import services
from leads.models import Channel, Outcome
from tests.browser.axe import report, serious_violations
from tests.browser.test_shell import sign_in
from trialsnest.audit.services import Actor
from trialsnest.studies.models import RecruitmentStatus, StudySite

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"laptop": (1366, 900), "phone": (375, 740)}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser) -> Iterator[Page]:
    # axe is injected as a script: the page's CSP (tested elsewhere) would refuse it.
    width, height = WIDTHS[request.param]
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": height})
    yield context.new_page()
    context.close()


@pytest.fixture
def lead(world):
    actor = Actor(user=None)
    person = services.person_create(
        organization=world.org_a,
        actor=actor,
        first_name="Ada",
        last_name="Lovelace",
        phone="(312) 555-0142",
    )
    lead = services.lead_create(
        person=person,
        study_site=world.study_site_a,
        source="web_form",
        owner=world.coordinator,
        actor=actor,
    )
    lead = services.lead_log_attempt(
        lead=lead, channel=Channel.PHONE, outcome=Outcome.NO_ANSWER, actor=actor
    )
    services.lead_add_note(lead=lead, text="Prefers mornings. " * 40, actor=actor)
    return lead


def _check(page: Page, found: dict[str, list[dict[str, Any]]]) -> None:
    violations = serious_violations(page)
    # And no page wider than the screen: a wide table scrolls in its own box.
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1]:
        violations.append({"id": "wider-than-the-screen", "impact": "serious", "width": wide})
    if violations:
        found[page.url] = violations


def test_the_coordinators_pages_have_no_serious_violations(sized_page, live_server, world, lead):
    page, found = sized_page, {}
    sign_in(page, live_server, world.coordinator.user.email)

    page.goto(f"{live_server.url}/queue/?tab=open")
    _check(page, found)
    row = page.locator("tbody.lead-row").first
    if row.get_by_role("button", name="Actions for").is_visible():
        row.get_by_role("button", name="Actions for").click()
        _check(page, found)
    row.locator("a[data-key=a]").click()
    row.locator(".panel form").wait_for()
    _check(page, found)
    page.locator("input[name=leads]").first.check()
    _check(page, found)

    page.goto(f"{live_server.url}/leads/{lead.code}/")
    _check(page, found)
    page.goto(f"{live_server.url}/leads/{lead.code}/status/")
    _check(page, found)
    page.goto(f"{live_server.url}/queue/search/?q=Lovelace")
    _check(page, found)

    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])


def test_the_team_page_has_no_serious_violations(sized_page, live_server, world, lead):
    page, found = sized_page, {}
    sign_in(page, live_server, world.site_lead.user.email)

    page.goto(f"{live_server.url}/team/")
    _check(page, found)
    # An action of the weekly review, owned by the site lead: on their queue too.
    page.goto(f"{live_server.url}/reviews/")
    page.get_by_label("Action").fill("Ask the lab about the slow records")
    page.get_by_label("Owner").select_option(label=world.site_lead.user.get_full_name())
    page.get_by_label("Due").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Save the action").click()
    page.wait_for_load_state()
    assert page.get_by_text("Ask the lab about the slow records").is_visible()
    _check(page, found)
    page.goto(f"{live_server.url}/queue/")
    assert page.get_by_role("heading", name="Your actions from the weekly review").is_visible()
    _check(page, found)
    page.goto(f"{live_server.url}/dashboard/")  # what changed since the review loads after it
    page.get_by_role("columnheader", name="Newly marked stale").wait_for()
    _check(page, found)
    page.goto(f"{live_server.url}/leads/{lead.code}/")  # viewed: the audit log has a row
    page.goto(f"{live_server.url}/audit/")
    _check(page, found)

    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])


def test_the_public_pages_have_no_serious_violations(sized_page, live_server, world, settings):
    settings.INTEREST_RATE_LIMIT = "1000/minute"
    page, found = sized_page, {}
    study = world.study_site_a.study

    for path in (
        "/studies/",
        f"/studies/?q={study.brief_title.split()[0]}",
        f"/studies/{study.code}/",
        f"/es/studies/{study.code}/",
        f"/studies/{study.code}/thanks/",
        "/accounts/login/",
    ):
        page.goto(f"{live_server.url}{path}")
        _check(page, found)
    page.goto(f"{live_server.url}/studies/{study.code}/")
    page.get_by_role("button", name="Send").click()  # errors on every required field
    _check(page, found)

    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])


def test_the_users_settings_and_the_security_page_have_no_serious_violations(
    sized_page, live_server, world
):
    page, found = sized_page, {}
    sign_in(page, live_server, world.admin.user.email)

    page.goto(f"{live_server.url}/settings/")  # with the two-factor requirement's switch
    _check(page, found)
    page.get_by_role("link", name="Security").click()
    page.wait_for_load_state()
    _check(page, found)
    # A study at a site being set up, with its launch checklist; a new API key's scopes.
    StudySite.objects.filter(pk=world.study_site_a.pk).update(
        recruitment_status=RecruitmentStatus.NOT_YET_RECRUITING
    )
    page.goto(f"{live_server.url}/settings/studies/{world.study_site_a.code}/")
    assert page.get_by_role("heading", name="Launch checklist").is_visible()
    _check(page, found)
    page.goto(f"{live_server.url}/settings/api-keys/new/")
    assert page.get_by_label("Read the leads handed off to the study team").is_visible()
    _check(page, found)
    # Lists whose tables are wider than a phone.
    for path in ("/settings/sites/", "/settings/api-keys/", "/imports/", "/team/materials/",
                 "/records/providers/", "/outreach/settings/", "/dashboard/"):  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        _check(page, found)

    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])
