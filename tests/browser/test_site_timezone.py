"""The site form in a real browser: typing the state and country selects the zone they
suggest before saving, and says where it comes from."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_address_selects_its_zone_before_the_form_is_saved(page, live_server, world):
    sign_in(page, live_server, world.admin.user.email)
    page.goto(f"{live_server.url}/settings/sites/new/")

    page.get_by_label("State").fill("Colorado")
    page.get_by_label("Country").fill("United States")
    page.get_by_label("Name").focus()  # leaving the field is its change

    expect(page.locator("#id_timezone")).to_have_value("America/Denver")
    expect(page.locator("#id_timezone_helptext")).to_contain_text(
        "America/Denver is suggested from Colorado, United States"
    )
    assert page.console_errors == []
