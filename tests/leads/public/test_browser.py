"""The public pages in headless chromium on a phone-sized screen with JavaScript turned off.

Each browser runs in a thread of its own: the browser tests' session-wide Playwright keeps an
event loop in the main thread, and a second sync Playwright cannot share that thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from leads.models import Lead
from tests.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)


def on_a_phone(visit: Callable[[Page], Any]) -> Any:
    def run() -> Any:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
            )
            try:
                context = browser.new_context(
                    viewport={"width": 375, "height": 740}, java_script_enabled=False
                )
                return visit(context.new_page())
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    # The live server sees every request from 127.0.0.1, as every earlier run did.
    settings.INTEREST_RATE_LIMIT = "1000/minute"


def _width(page: Page) -> int:
    page.wait_for_load_state()  # not mid-navigation, when the document has no element yet
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_visitor_finds_a_study_and_sends_their_interest(live_server, world):
    title = world.study_site_a2.study.brief_title

    def visit(page: Page) -> dict[str, Any]:
        page.goto(f"{live_server.url}/studies/")
        widths = [_width(page)]
        page.get_by_label("Words").fill(title)
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name=title).click()
        widths.append(_width(page))
        page.get_by_label("First name").fill("Ana")
        page.get_by_label("Last name").fill("Lopez")
        page.get_by_label("Phone number").fill("312 263 0142")
        page.get_by_label("ZIP code").fill("60601")
        page.get_by_label(re.compile("Phone calls: the study team may call me")).check()
        page.get_by_role("button", name="Send").click()
        return {
            "widths": widths,
            "url": page.url,
            "heading": page.get_by_role("heading", level=1).inner_text(),
        }

    seen = on_a_phone(visit)

    assert max(seen["widths"]) <= 375  # nothing wider than the phone
    # (The form posts to "#interest"; the browser keeps that fragment through the redirect.)
    assert seen["url"].split("#")[0] == (
        f"{live_server.url}/studies/{world.study_site_a2.study.code}/thanks/"
    )
    assert seen["heading"] == "Thank you: we received your interest"
    lead = Lead.objects.get()
    assert lead.study_site == world.study_site_a2
    assert lead.person.consent_phone


def test_errors_are_announced_with_their_fields_and_the_keyboard_follows_reading_order(
    live_server, world
):
    def visit(page: Page) -> list[str]:
        page.goto(f"{live_server.url}/es/studies/{world.study_site_a.study.code}/")
        page.get_by_label("Apellido").fill("Lopez")
        page.get_by_role("button", name="Enviar").click()
        # The answer page first: a click does not wait for it, and until it has loaded the
        # title is the empty one of a page in between.
        expect(page.get_by_role("alert").first).to_contain_text("Revise el formulario")
        expect(page).to_have_title(re.compile(r"^Error:"))
        assert page.url.endswith("#interest")
        first_name = page.get_by_label("Nombre", exact=True)
        expect(first_name).to_have_attribute("aria-invalid", "true")
        expect(first_name).to_have_accessible_description(re.compile("Este campo es obligatorio"))
        expect(page.get_by_label("Apellido")).to_have_value("Lopez")
        first_name.focus()
        order = []
        for _ in range(10):
            page.keyboard.press("Tab")
            order.append(
                page.evaluate("document.activeElement.name || document.activeElement.tagName")
            )
        return order

    order = on_a_phone(visit)

    # The honeypot is out of the tab order: after the material code comes the Send button.
    assert order == [
        "last_name",
        "phone",
        "email",
        "preferred_time",
        "postal_code",
        "consent",
        "consent",
        "consent",
        "material",
        "BUTTON",
    ]
    assert not Lead.objects.exists()
