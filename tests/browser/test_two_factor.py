"""Two-factor sign-in in a real browser, at a laptop's and a phone's width: the required
enrolment (the QR code shows under the CSP, the key types into an app), the recovery codes,
then the code asked at the next sign-in; axe finds no serious violation on these pages.
Screenshots go to artifacts/screens/ for review."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.axe import report, serious_violations
from tests.browser.test_accessibility import sized_page  # noqa: F401 (the fixture)
from tests.browser.test_shell import sign_in
from trialsnest.accounts.two_factor import RECOVERY_CODES

pytestmark = pytest.mark.django_db(transaction=True)
SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


def _code_now(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def test_a_required_enrolment_then_the_code_at_the_next_sign_in(
    sized_page,  # noqa: F811 (the fixture imported above)
    live_server,
    world,
):
    page, found = sized_page, {}
    width = "phone" if page.viewport_size["width"] < 800 else "laptop"
    SCREENS.mkdir(parents=True, exist_ok=True)
    world.org_a.two_factor_required = True
    world.org_a.save()

    sign_in(page, live_server, world.coordinator.user.email)
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{live_server.url}/accounts/two-factor/setup/")
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn, not blocked
    if violations := serious_violations(page):
        found[page.url] = violations
    page.screenshot(path=SCREENS / f"two-factor-setup-{width}.png", full_page=True)

    device = TOTPDevice.objects.get(user=world.coordinator.user)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_text("That code is not right").wait_for()
    page.wait_for_timeout(1100)  # one wrong code: the next is heard after a second
    page.get_by_label("Code").fill(_code_now(device))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    page.get_by_role("heading", name="Recovery codes").wait_for()
    assert page.locator("ul.codes li").count() == RECOVERY_CODES
    recovery = page.locator("ul.codes li").first.inner_text()
    if violations := serious_violations(page):
        found[page.url] = violations
    page.screenshot(path=SCREENS / f"two-factor-codes-{width}.png", full_page=True)
    page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_url(f"{live_server.url}/queue/")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, world.coordinator.user.email)
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{live_server.url}/accounts/two-factor/?next=")
    if violations := serious_violations(page):
        found[page.url] = violations
    page.screenshot(path=SCREENS / f"two-factor-code-{width}.png", full_page=True)
    # A recovery code (the app's code at sign-in is tested on a frozen clock, test_two_factor).
    page.get_by_label("Code").fill(recovery)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{live_server.url}/queue/")
    assert not found, report([{"url": url, "violations": v} for url, v in found.items()])
