"""A site lead reviews possible duplicates on a phone: nothing wider than the screen, "different
people" without a page load, and a merge only after its summary."""

from __future__ import annotations

import datetime

import pytest

from leads.models import PersonMerge, SuspectedDuplicate
from tests.browser.test_shell import sign_in
from tests.factories import PersonFactory, SuspectedDuplicateFactory, new_lead

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    context.close()


def _width(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_site_lead_reviews_duplicates_on_a_phone(phone_page, live_server, world):
    page = phone_page
    linda = new_lead(study_site=world.study_site_a, person__first_name="Linda",
                     person__last_name="Martinez-Villanueva").person  # fmt: skip
    walker = new_lead(study_site=world.study_site_a2, person__first_name="Walker",
                      person__phone=linda.phone).person  # fmt: skip
    suspicion = SuspectedDuplicateFactory(person=walker, matched=linda)
    born = datetime.date(1961, 4, 12)
    keep = PersonFactory(organization=world.org_a, first_name="Maria", last_name="Gonzalez",
                         date_of_birth=born)  # fmt: skip
    PersonFactory(organization=world.org_a, first_name="María", last_name="Gonzales",
                  date_of_birth=born)  # fmt: skip
    sign_in(page, live_server, world.site_lead.user.email)

    page.goto(f"{live_server.url}/people/duplicates/")
    assert _width(page) <= PHONE["width"]
    card = page.locator(f"#suspicion-{suspicion.code}")
    card.get_by_role("button", name="These are different people").click()
    page.get_by_text("Marked as different people").wait_for()
    assert page.url.endswith("/people/duplicates/"), page.url
    suspicion.refresh_from_db()
    assert suspicion.resolution == SuspectedDuplicate.Resolution.DISMISSED

    page.get_by_role("link", name="Compare").click()
    review = page.get_by_role("button", name="Review the merge")
    review.wait_for()  # the comparison has loaded before it is measured
    assert _width(page) <= PHONE["width"]
    review.click()
    page.get_by_role("heading", name="Confirm the merge").wait_for()
    assert _width(page) <= PHONE["width"]
    assert not PersonMerge.objects.exists()
    page.get_by_role("button", name="Merge these records").click()
    page.get_by_text("Nothing was deleted").wait_for()
    assert PersonMerge.objects.get().kept == keep
    assert _width(page) <= PHONE["width"]
    assert page.console_errors == [], page.console_errors
