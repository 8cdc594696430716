"""The shell in a real browser: sign-in, role-aware navigation, htmx under the CSP."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The next page, not the sign-in page's own load state (a click does not wait for it).
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state()


def test_a_coordinator_signs_in_and_lands_on_the_queue(page, live_server, world):
    sign_in(page, live_server, world.coordinator.user.email)
    assert page.url == f"{live_server.url}/queue/"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link").all_inner_texts() == ["Queue", "Providers", "Replies"]
    assert page.console_errors == []


def test_htmx_runs_under_the_content_security_policy(page, live_server, world):
    sign_in(page, live_server, world.admin.user.email)
    assert page.url == f"{live_server.url}/settings/"
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    # No inline style or script was blocked by the policy.
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link").all_inner_texts() == [
        "Queue",
        "Dashboard",
        "Team",
        "Imports",
        "Duplicates",
        "Providers",
        "Replies",
        "Settings",
    ]


def test_a_sponsor_viewer_sees_only_reports(page, live_server, world):
    sign_in(page, live_server, world.sponsor_viewer.email)
    assert page.url == f"{live_server.url}/reports/"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link").all_inner_texts() == ["Reports"]
    assert world.study_site_a.study.brief_title in page.content()
    assert world.study_site_a2.study.brief_title not in page.content()


def test_htmx_keeps_no_copy_of_a_page_in_the_browsers_storage(page, live_server, world):
    """htmx would snapshot the page into the browser's storage before pushing a URL; with
    patient data on staff pages it keeps none, and going back asks the server again."""
    sign_in(page, live_server, world.site_lead.user.email)
    page.goto(f"{live_server.url}/dashboard/")
    with page.expect_response(lambda response: "/dashboard/?" in response.url):
        page.get_by_role("button", name="Show").click()
    page.wait_for_function("location.search !== ''")  # the URL was pushed

    assert page.evaluate("htmx.config.historyCacheSize") == 0
    for storage in ("sessionStorage", "localStorage"):
        assert page.evaluate(f"{storage}.getItem('htmx-history-cache')") is None, storage
