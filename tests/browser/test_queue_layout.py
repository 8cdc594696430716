"""The queue on a laptop and on a phone: dense rows on 1366 x 900, cards on 375 px wide with
nothing off-screen, the bulk bar only while rows are selected."""

from __future__ import annotations

import pytest

from leads import services
from leads.models import Channel, Outcome
from tests.browser.test_shell import sign_in
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)

LONG_TITLE = (
    "A Randomized, Double-Blind, Placebo-Controlled Study of Semaglutide in Adults With "
    "Type 2 Diabetes and Chronic Kidney Disease"
)


@pytest.fixture
def many_leads(world):
    study = world.study_site_a.study
    study.brief_title = LONG_TITLE
    study.save()
    actor = Actor(user=None)
    made = []
    for i in range(20):
        person = services.person_create(
            organization=world.org_a,
            actor=actor,
            first_name=["Maria-Fernanda", "Bartholomew", "Ada"][i % 3],
            last_name=["Gonzalez-Ruiz", "Featherstonehaugh", "Lovelace"][i % 3],
            phone="(312) 555-0142",
        )
        lead = services.lead_create(
            person=person,
            study_site=world.study_site_a,
            source="physician_referral",
            owner=world.coordinator,
            actor=actor,
        )
        if i % 2:
            lead = services.lead_log_attempt(
                lead=lead, channel=Channel.PHONE, outcome=Outcome.VOICEMAIL, actor=actor
            )
        made.append(lead)
    return made


def _inside(box, width):
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


def test_at_375_px_the_queue_has_no_horizontal_scroll_and_every_action_is_reachable(
    page, live_server, world, many_leads
):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_server, world.coordinator.user.email)
    page.goto(f"{live_server.url}/queue/?tab=open")

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    header = page.locator("header.shell").bounding_box()
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    assert _inside(sign_out, 375)
    assert header["y"] <= sign_out["y"]
    assert sign_out["y"] + sign_out["height"] <= header["y"] + header["height"]

    row = page.locator("tbody.lead-row").first
    for part in ("td.who-cell a.open", "td.why", "td.next"):
        assert row.locator(part).is_visible(), part
        assert _inside(row.locator(part).bounding_box(), 375), part
    assert row.locator("td.why").inner_text().startswith(("first contact", "follow-up"))

    menu = row.get_by_role("button", name="Actions for")
    assert _inside(menu.bounding_box(), 375)
    labels = []
    for i in range(6):
        menu.click()
        links = row.locator(".acts-links a")
        link = links.nth(i)
        link.wait_for(state="visible")
        assert _inside(link.bounding_box(), 375)
        labels.append(link.inner_text())
        link.click()
        panel = row.locator(".panel form")
        panel.wait_for()
        assert _inside(panel.bounding_box(), 375)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.keyboard.press("Escape")
    assert labels == [
        "Log a contact attempt",
        "Set the next action",
        "Add a note",
        "Change status",
        "Reassign",
        "Snooze",
    ]
    assert page.console_errors == []


def test_twelve_or_more_rows_fit_on_a_1366_by_900_screen_with_their_reason(
    page, live_server, world, many_leads
):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, world.coordinator.user.email)
    page.goto(f"{live_server.url}/queue/?tab=open")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    bottoms = page.eval_on_selector_all(
        "tbody.lead-row td.why", "cells => cells.map(c => c.getBoundingClientRect().bottom)"
    )
    assert sum(bottom <= 900 for bottom in bottoms) >= 12
    study = page.locator("tbody.lead-row td.study span").first
    assert study.get_attribute("title") == LONG_TITLE
    shown = study.inner_text()
    assert shown.endswith("…")
    assert LONG_TITLE.startswith(shown.removesuffix("…"))
    assert LONG_TITLE[len(shown) - 1] in " ,"  # cut where a word ends


def test_the_bulk_bar_shows_only_while_rows_are_selected(page, live_server, world, many_leads):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, world.coordinator.user.email)
    page.goto(f"{live_server.url}/queue/?tab=open")
    bar = page.locator("form#bulk")

    assert not bar.is_visible()
    page.locator("input[name=leads]").nth(2).check()
    assert bar.is_visible()
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] <= 900
    # Only the fields the chosen action uses.
    assert bar.get_by_label("Owner").is_visible()
    assert not bar.get_by_label("Close reason").is_visible()
    bar.locator("select[name=action]").select_option("close")
    assert bar.get_by_label("Close reason").is_visible()
    assert not bar.get_by_label("Owner").is_visible()
    bar.locator("select[name=action]").select_option("next_action")
    assert bar.locator("select[name=kind]").is_visible()
    assert bar.get_by_label("Due").is_visible()
    assert not bar.get_by_label("Close reason").is_visible()
    page.locator("input[name=leads]").nth(2).uncheck()
    assert not bar.is_visible()
