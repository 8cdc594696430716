"""The most sensitive actions (exports of people's data, merges, new API keys, role changes)
need a sign-in of the last REAUTH_MINUTES; later, the password (and the code) again."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World
from tests.factories import PASSWORD
from trialsnest.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
T0 = 1_800_000_000
KEYS = "/settings/api-keys/new/"


def _sign_in(email: str) -> Client:
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code
        == 302
    )
    return client


def test_a_fresh_sign_in_goes_straight_through(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.admin.user.email)
    time_machine.shift(9 * 60)
    assert client.get(KEYS).status_code == 200


def test_later_the_password_is_asked_again_then_the_page_comes_back(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.admin.user.email)
    time_machine.shift(11 * 60)  # counted from the sign-in itself, not the first page after

    asked = client.get(KEYS)
    assert asked.status_code == 302
    assert asked["Location"] == "/accounts/confirm/?next=%2Fsettings%2Fapi-keys%2Fnew%2F"
    wrong = client.post("/accounts/confirm/", {"password": "nope", "next": KEYS})
    assert "That password is not right." in wrong.content.decode()
    right = client.post("/accounts/confirm/", {"password": PASSWORD, "next": KEYS})
    assert right["Location"] == KEYS
    assert client.get(KEYS).status_code == 200
    actions = AuditEvent.objects.filter(actor=world.admin.user, action__startswith="auth.confirm")
    assert list(actions.order_by("pk").values_list("action", flat=True)) == [
        "auth.confirm_refused",
        "auth.confirmed",
    ]


def test_a_refused_post_goes_back_to_its_page_and_changes_nothing(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.admin.user.email)
    time_machine.shift(11 * 60)
    page = f"/settings/users/{world.coordinator.code}/"

    refused = client.post(
        page, {"role": "site_lead"}, headers={"Referer": f"http://testserver{page}"}
    )

    assert refused["Location"] == f"/accounts/confirm/?next={page.replace('/', '%2F')}"
    world.coordinator.refresh_from_db()
    assert world.coordinator.role == "coordinator"


def test_an_htmx_request_is_sent_to_the_whole_page(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    client = _sign_in(world.admin.user.email)
    time_machine.shift(11 * 60)
    answer = client.get(KEYS, headers={"HX-Request": "true"})
    assert answer["HX-Redirect"].startswith("/accounts/confirm/?next=")


def test_with_two_factor_on_the_code_is_asked_too(world: World, time_machine):
    time_machine.move_to(T0, tick=False)
    user = world.admin.user
    client = _sign_in(user.email)
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user)
    client.post("/accounts/two-factor/setup/", {"code": _code(device)})
    time_machine.shift(11 * 60)

    no_code = client.post("/accounts/confirm/", {"password": PASSWORD, "next": KEYS})
    assert no_code.status_code == 200
    assert "This field is required" in no_code.content.decode()
    done = client.post(
        "/accounts/confirm/", {"password": PASSWORD, "code": _code(device), "next": KEYS}
    )
    assert done["Location"] == KEYS


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
