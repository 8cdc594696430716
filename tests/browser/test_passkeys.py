"""Passkeys in a real browser, with Chromium's virtual authenticator standing in for the
device's fingerprint reader: a member with two-factor sign-in on adds a passkey on their
Security page; at the next sign-in, after the password, "Use a passkey" lets them in (a new
session id, audited); a password-only account cannot add one."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tests.browser.test_shell import sign_in
from tests.browser.test_two_factor import _code_now
from trialsnest.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _authenticator(page) -> None:
    """A platform authenticator that verifies the user at once (no prompt in a test)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


def test_a_passkey_is_added_then_signs_in_as_the_second_factor(page, live_server, world):
    user = world.coordinator.user
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])
    _authenticator(page)

    sign_in(page, live_server, user.email)
    page.get_by_label("Code").fill(_code_now(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/queue/")
    page.goto(f"{live_server.url}/accounts/two-factor/codes/")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-register-status-message")).not_to_be_empty()
    (passkey,) = WebAuthnCredential.objects.filter(user=user, confirmed=True)
    assert AuditEvent.objects.filter(action="auth.passkey_added", actor=user).exists()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, user.email)
    assert page.url.startswith(f"{live_server.url}/accounts/two-factor/")
    before = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{live_server.url}/queue/")
    after = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    assert after != before
    verified = AuditEvent.objects.filter(action="auth.two_factor_verified", actor=user)
    assert list(verified.order_by("id").values_list("reason", flat=True)) == ["app", "passkey"]

    # A lost device: its passkey is removed from the same page (the sign-in is recent). This
    # session was verified by it, so the code is asked once more, and then the page is back.
    page.set_viewport_size({"width": 375, "height": 740})  # on a phone
    page.goto(f"{live_server.url}/accounts/two-factor/codes/")
    remove = page.get_by_role("button", name="Remove")
    box = remove.bounding_box()
    assert box is not None
    assert box["height"] >= 40  # a thumb's height (it was 23 px, its label white on white)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert remove.evaluate(CONTRAST) >= 4.5  # WCAG AA for its label, against the card
    remove.click()
    page.get_by_text("Passkey removed. You signed in with it: give your code once.").wait_for()
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    # The next step's code (within the device's tolerance): the one used above is spent.
    page.get_by_label("Code").fill(f"{totp(device.bin_key, device.step, device.t0, drift=1):06d}")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Add a passkey").wait_for()
    assert "/accounts/two-factor/codes/" in page.url


# The contrast ratio of an element's text against the first background behind it that is not
# transparent (WCAG's relative luminance).
CONTRAST = """el => {
    const rgb = c => c.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    let back = el;
    while (back && rgb(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)),
                    lum(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255,255,255)"))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_a_password_only_account_cannot_add_a_passkey(page, live_server, world):
    _authenticator(page)
    sign_in(page, live_server, world.coordinator.user.email)
    page.goto(f"{live_server.url}/accounts/two-factor/setup/")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    status = page.evaluate(
        """async (token) => (await fetch("/accounts/passkeys/registration/begin/", {
            method: "POST", headers: {"X-CSRFToken": token}
        })).status""",
        token,
    )
    assert status == 403
    assert not WebAuthnCredential.objects.exists()
