"""Two-factor sign-in: enrolment forced once an admin requires it, the code after the password,
replayed and wrong codes refused, recovery codes used once, the session id rotated, audit rows,
and nothing of the product reachable in between (pages, htmx fragments, exports)."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tests.conftest import World
from tests.factories import PASSWORD, new_lead
from trialsnest.accounts import two_factor
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Membership

pytestmark = pytest.mark.django_db
T0 = 1_800_000_000  # a whole TOTP step: codes are computed where the clock is frozen
THROTTLE_AFTER_ONE = 2  # seconds: django-otp waits 1 s after one wrong code, 2 after two...


def _sign_in(email: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def _code(device: TOTPDevice) -> str:
    """The app's code now (the clock time-machine sets, where a test travels)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:06d}"


def _require(world: World) -> None:
    world.org_a.two_factor_required = True
    world.org_a.save()


def _enrol(client: Client) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(
        "/accounts/two-factor/setup/", {"code": _code(device), "next": "/queue/"}
    )
    assert response.status_code == 200
    codes = list(response.context["codes"])
    return TOTPDevice.objects.get(pk=device.pk), codes


def _actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=user, action__startswith="auth.two_factor")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_without_a_requirement_or_a_device_nothing_changes(world: World):
    client = _sign_in(world.coordinator.user.email)
    assert client.get("/queue/").status_code == 200


def test_once_required_every_page_fragment_and_export_waits_for_enrolment(world: World):
    _require(world)
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    client = _sign_in(world.coordinator.user.email)

    page = client.get("/queue/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/two-factor/setup/?next=%2Fqueue%2F"
    assert client.get(f"/leads/{lead.code}/").status_code == 302
    fragment = client.get("/queue/", headers={"HX-Request": "true"})
    assert fragment["HX-Redirect"].startswith("/accounts/two-factor/setup/")
    assert lead.person.last_name.encode() not in fragment.content
    lead_client = _sign_in(world.site_lead.user.email)
    assert lead_client.get("/dashboard/export.csv").status_code == 302
    # What stays open: the enrolment itself, signing out, the public pages.
    assert client.get("/accounts/two-factor/setup/").status_code == 200
    assert client.get(f"/studies/{world.study_site_a.study.code}/").status_code == 200


def test_enrolment_shows_the_qr_code_and_key_then_recovery_codes_once(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    _require(world)
    client = _sign_in(world.coordinator.user.email)
    page = client.get("/accounts/two-factor/setup/").content.decode()
    assert 'src="data:image/svg+xml' in page
    device = TOTPDevice.objects.get(user=world.coordinator.user)
    assert two_factor.enrolment_for(world.coordinator.user).secret in page

    wrong = client.post("/accounts/two-factor/setup/", {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    time_machine.shift(THROTTLE_AFTER_ONE)

    session_before = client.session.session_key
    device, codes = _enrol(client)

    assert device.confirmed
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    world.coordinator.user.refresh_from_db()
    assert world.coordinator.user.two_factor_enabled
    assert client.session.session_key != session_before
    assert client.get("/queue/").status_code == 200
    assert _actions(world.coordinator.user) == [
        "auth.two_factor_refused",
        "auth.two_factor_enrolled",
    ]


def test_the_next_sign_in_asks_for_the_code_and_refuses_a_replay(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    first = _sign_in(world.coordinator.user.email)
    device, _ = _enrol(first)
    used = _code(device)

    time_machine.shift(60)
    client = _sign_in(world.coordinator.user.email)
    asked = client.get("/queue/")
    assert asked["Location"] == "/accounts/two-factor/?next=%2Fqueue%2F"
    # The code of a minute ago (it confirmed the app) is refused.
    replay = client.post("/accounts/two-factor/", {"code": used, "next": "/queue/"})
    assert "was used already" in replay.content.decode()
    time_machine.shift(THROTTLE_AFTER_ONE)
    before = client.session.session_key
    answer = client.post("/accounts/two-factor/", {"code": _code(device), "next": "/queue/"})
    assert answer.status_code == 302
    assert answer["Location"] == "/queue/"
    assert client.session.session_key != before
    assert client.get("/queue/").status_code == 200
    # The same code in another session is a replay too.
    other = _sign_in(world.coordinator.user.email)
    again = other.post("/accounts/two-factor/", {"code": _code(device)})
    assert again.status_code == 200
    assert other.get("/queue/").status_code == 302


def test_a_recovery_code_works_once(world: World):
    client = _sign_in(world.coordinator.user.email)
    _device, codes = _enrol(client)

    fresh = _sign_in(world.coordinator.user.email)
    answer = fresh.post("/accounts/two-factor/", {"code": codes[0].upper(), "next": "/queue/"})
    assert answer["Location"] == "/queue/"
    assert two_factor.recovery_codes_left(world.coordinator.user) == two_factor.RECOVERY_CODES - 1

    again = _sign_in(world.coordinator.user.email)
    refused = again.post("/accounts/two-factor/", {"code": codes[0]})
    assert refused.status_code == 200
    assert again.get("/queue/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.coordinator.user.email)
    _device, old = _enrol(client)
    renewed = client.post("/accounts/two-factor/codes/").context["codes"]

    fresh = _sign_in(world.coordinator.user.email)
    assert fresh.post("/accounts/two-factor/", {"code": old[1]}).status_code == 200
    time_machine.shift(THROTTLE_AFTER_ONE)
    assert fresh.post("/accounts/two-factor/", {"code": renewed[1]}).status_code == 302


def test_wrong_codes_are_throttled(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.coordinator.user.email)
    device, _ = _enrol(client)
    fresh = _sign_in(world.coordinator.user.email)
    for _ in range(3):
        fresh.post("/accounts/two-factor/", {"code": "123456"})

    # Right now, even the right code waits out the throttle (4 s after 3 failures).
    refused = fresh.post("/accounts/two-factor/", {"code": _code(device)})
    time_machine.shift(30)  # the next step's code, once the throttle has passed
    accepted = fresh.post("/accounts/two-factor/", {"code": _code(device)})

    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert AuditEvent.objects.filter(action="auth.two_factor_refused").count() >= 4


def test_an_admin_requires_it_for_the_organization_and_it_is_audited(world: World):
    admin = _sign_in(world.admin.user.email)
    page = admin.get("/settings/").content.decode()
    assert "Require two-factor sign-in" in page

    response = admin.post("/settings/two-factor/", {"two_factor_required": "on"})

    assert response.status_code == 302
    world.org_a.refresh_from_db()
    assert world.org_a.two_factor_required
    event = AuditEvent.objects.get(action="organization.two_factor_required")
    assert event.changes == {"two_factor_required": {"old": False, "new": True}}
    # The admin, too, enrols before going on.
    assert admin.get("/settings/")["Location"].startswith("/accounts/two-factor/setup/")


def test_only_an_org_admin_may_require_it(world: World):
    client = _sign_in(world.site_lead.user.email)
    assert client.post("/settings/two-factor/", {"two_factor_required": "on"}).status_code == 403
    world.org_a.refresh_from_db()
    assert not world.org_a.two_factor_required


def test_another_organizations_requirement_does_not_reach_this_one(world: World):
    world.org_b.two_factor_required = True
    world.org_b.save()
    client = _sign_in(world.coordinator.user.email)
    assert client.get("/queue/").status_code == 200
    assert Membership.objects.filter(organization=world.org_b).exists()


def test_a_sponsor_viewer_is_not_asked_unless_they_enrolled(world: World):
    _require(world)
    client = _sign_in(world.sponsor_viewer.email)
    assert client.get("/reports/").status_code == 200


def test_an_organization_may_ask_it_of_the_sponsor_viewers_it_shares_reports_with(world: World):
    admin = Client()
    admin.force_login(world.admin.user)
    admin.post(
        "/settings/two-factor/", {"two_factor_required": "on", "two_factor_for_sponsors": "on"}
    )
    world.org_a.refresh_from_db()
    assert (world.org_a.two_factor_required, world.org_a.two_factor_for_sponsors) == (True, True)
    event = AuditEvent.objects.filter(action="organization.two_factor_required").get()
    assert event.changes["two_factor_for_sponsors"] == {"old": False, "new": True}

    client = _sign_in(world.sponsor_viewer.email)
    asked = client.get("/reports/")
    assert asked["Location"] == "/accounts/two-factor/setup/?next=%2Freports%2F"
    _enrol(client)  # the sponsor viewer sets it up like a member
    assert client.get("/reports/").status_code == 200


def test_another_organizations_sponsor_setting_does_not_reach_a_sponsor_it_shares_nothing_with(
    world: World,
):
    world.org_b.two_factor_for_sponsors = True  # org B shares no StudySite with this sponsor
    world.org_b.save()
    client = _sign_in(world.sponsor_viewer.email)
    assert client.get("/reports/").status_code == 200


def test_the_session_id_changes_at_sign_in(world: World):
    client = Client()
    client.get("/accounts/login/")  # an anonymous session with its CSRF cookie
    client.session.save()
    before = client.session.session_key

    signed = client.post(
        "/accounts/login/", {"username": world.coordinator.user.email, "password": PASSWORD}
    )

    assert signed.status_code == 302
    assert client.session.session_key not in (None, before)


def _passkey(user, name: str) -> WebAuthnCredential:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return WebAuthnCredential.objects.create(
        user=user, name=name, confirmed=True, credential_id=name.encode(),
        credential_id_sha256=digest, public_key=b"key",
    )  # fmt: skip


def test_a_member_removes_their_own_passkey_and_only_theirs(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.coordinator.user.email)
    _enrol(client)
    lost = _passkey(world.coordinator.user, "Old phone")
    theirs = _passkey(world.site_lead.user, "Site lead's laptop")

    page = client.get("/accounts/two-factor/codes/").content.decode()
    assert f'action="/accounts/two-factor/passkeys/{lost.pk}/remove/"' in page
    assert 'aria-label="Remove Old phone, added' in page
    assert client.get(f"/accounts/two-factor/passkeys/{lost.pk}/remove/").status_code == 405
    assert client.post(f"/accounts/two-factor/passkeys/{theirs.pk}/remove/").status_code == 404
    answer = client.post(f"/accounts/two-factor/passkeys/{lost.pk}/remove/", follow=True)

    assert answer.redirect_chain == [("/accounts/two-factor/codes/", 302)]
    assert "Passkey removed." in answer.content.decode()
    assert not WebAuthnCredential.objects.filter(pk=lost.pk).exists()
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    removed = AuditEvent.objects.get(action="auth.passkey_removed")
    assert (removed.actor, removed.reason) == (world.coordinator.user, "Old phone")


def test_removing_a_passkey_asks_for_the_password_when_the_sign_in_is_old(
    world: World, time_machine
):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.coordinator.user.email)
    _enrol(client)
    kept = _passkey(world.coordinator.user, "Laptop")
    time_machine.shift(11 * 60)  # past REAUTH_MINUTES, within the session

    answer = client.post(f"/accounts/two-factor/passkeys/{kept.pk}/remove/")

    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/confirm/?next=")
    assert WebAuthnCredential.objects.filter(pk=kept.pk).exists()
    assert not AuditEvent.objects.filter(action="auth.passkey_removed").exists()
