"""Signing in and out: passwords, lockout, session timeouts, reset, invitations, headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client

from tests.conftest import World, signed_in
from tests.factories import PASSWORD
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Membership, Role

NEW_PASSWORD = "a-fresh-longer-password-42"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def _link(message: mail.EmailMessage) -> str:
    match = re.search(r"http://testserver(/accounts/\S+/)", str(message.body))
    assert match, message.body
    return match.group(1)


# Passwords ------------------------------------------------------------------------------------


def test_it_signs_in_with_email_and_password(world: World):
    client = Client()

    response = _sign_in(client, world.coordinator.user.email)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == "/queue/"
    assert client.get("/queue/").status_code == 200


def test_it_signs_in_whatever_the_case_of_the_address(world: World):
    client = Client()

    _sign_in(client, world.coordinator.user.email.upper())

    assert client.get("/queue/").status_code == 200


def test_it_refuses_a_wrong_password_with_a_message(world: World):
    client = Client()

    response = _sign_in(client, world.coordinator.user.email, "wrong-password")

    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert client.get("/queue/")["Location"].startswith("/accounts/login/")


def test_it_signs_out_on_post(world: World):
    client = signed_in(world.coordinator.user)

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/accounts/login/"
    assert client.get("/queue/")["Location"].startswith("/accounts/login/")


# Lockout --------------------------------------------------------------------------------------


def test_it_locks_the_account_out_after_too_many_failed_sign_ins(world: World):
    email = world.coordinator.user.email
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, email, "wrong-password")
        assert response.status_code == 200
        assert "registration/login.html" in [t.name for t in response.templates]

    response = _sign_in(client, email, "wrong-password")

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "Too many failed sign-ins" in response.content.decode()


def test_it_refuses_the_right_password_while_locked_out(world: World):
    email = world.coordinator.user.email
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, email, "wrong-password")

    response = _sign_in(client, email)

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session
    assert client.get("/queue/")["Location"].startswith("/accounts/login/")


def test_the_lockout_ends_after_the_cool_off(world: World):
    email = world.coordinator.user.email
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _sign_in(client, email, "wrong-password")
        traveller.shift(timedelta(minutes=1))

        # Any attempt while locked out, even with the right password, restarts the cool-off.
        assert _sign_in(client, email).status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME * timedelta(hours=1) - timedelta(minutes=1))
        assert _sign_in(client, email).status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME * timedelta(hours=1) + timedelta(minutes=1))

        response = _sign_in(client, email)

        assert response.status_code == 302
        assert client.get("/queue/").status_code == 200


def test_failures_in_any_spelling_of_the_address_count_together(world: World):
    email = world.coordinator.user.email
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        spelling = email.upper() if attempt % 2 else email
        _sign_in(client, spelling, "wrong-password")

    assert _sign_in(client, email).status_code == 429
    assert _sign_in(client, email.upper()).status_code == 429


def test_a_lockout_of_one_account_does_not_lock_another(world: World):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, world.coordinator.user.email, "wrong-password")

    response = _sign_in(client, world.site_lead.user.email)

    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


# Session timeouts -----------------------------------------------------------------------------


def test_it_signs_out_after_the_idle_timeout(world: World):
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        _sign_in(client, world.coordinator.user.email)
        assert client.get("/queue/").status_code == 200

        traveller.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT) + timedelta(minutes=1))
        response = client.get("/queue/")

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        page = client.get(response["Location"])
        assert "signed out after a period of inactivity" in page.content.decode()
        assert client.get("/queue/")["Location"].startswith("/accounts/login/")


def test_activity_within_the_idle_timeout_keeps_the_session(world: World):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        _sign_in(client, world.coordinator.user.email)
        for _ in range(4):
            traveller.shift(timedelta(minutes=29))
            assert client.get("/queue/").status_code == 200


def test_it_signs_out_after_the_absolute_timeout_however_active(world: World):
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    signed_out_after = None
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        _sign_in(client, world.coordinator.user.email)
        for step in range(1, 13 * 3 + 1):  # every 20 minutes for 13 hours
            traveller.shift(timedelta(minutes=20))
            response = client.get("/queue/")
            if response.status_code != 200:
                signed_out_after = timedelta(minutes=20 * step)
                break

    assert signed_out_after == timedelta(hours=12, minutes=20)
    assert response["Location"].startswith("/accounts/login/")
    logout = AuditEvent.objects.get(action="auth.logout")
    assert logout.reason == "Your session ended. Please sign in again."


def test_a_deactivated_membership_is_signed_out_on_the_next_request(world: World):
    client = signed_in(world.coordinator.user)
    assert client.get("/queue/").status_code == 200

    Membership.objects.filter(pk=world.coordinator.pk).update(is_active=False)
    response = client.get("/queue/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "Your access to this organization was removed." in page.content.decode()


def test_a_deactivated_member_signing_in_again_is_signed_out_at_once(world: World):
    Membership.objects.filter(pk=world.coordinator.pk).update(is_active=False)
    client = Client()
    _sign_in(client, world.coordinator.user.email)

    response = client.get("/queue/")
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert (
        "Your access to this organization was removed."
        in client.get(response["Location"]).content.decode()
    )


def test_a_deactivated_sponsor_viewer_is_signed_out_on_the_next_request(world: World):
    client = signed_in(world.sponsor_viewer)
    assert client.get("/reports/").status_code == 200

    world.sponsor_viewer.sponsor_membership.is_active = False
    world.sponsor_viewer.sponsor_membership.save()

    assert client.get("/reports/")["Location"].startswith("/accounts/login/")


# Password reset -------------------------------------------------------------------------------


def test_password_reset_sends_a_link_that_sets_a_new_password(world: World):
    email = world.coordinator.user.email
    client = Client()

    response = client.post("/accounts/password_reset/", {"email": email})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [email]
    link = _link(mail.outbox[0])
    form_url = client.get(link)["Location"]
    assert client.get(form_url).context["validlink"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/reset/done/"
    assert _sign_in(Client(), email, PASSWORD).status_code == 200  # the old one is refused
    assert _sign_in(Client(), email, NEW_PASSWORD).status_code == 302
    # The link works once.
    assert not client.get(link, follow=True).context["validlink"]


def test_password_reset_sends_nothing_for_an_unknown_address(world: World):
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


# Invitation -----------------------------------------------------------------------------------


def test_an_invited_user_sets_a_password_and_signs_in(
    world: World, django_capture_on_commit_callbacks
):
    admin = signed_in(world.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/settings/users/invite/",
            {"email": "New.Person@Example.com", "first_name": "Nova", "role": Role.SITE_LEAD},
        )
    assert response["Location"] == "/settings/"

    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["new.person@example.com"]
    assert "Org A" in invitation.subject
    link = _link(invitation)
    assert link.startswith("/accounts/welcome/")

    guest = Client()
    form_url = guest.get(link)["Location"]
    form = guest.get(form_url)
    assert form.context["validlink"]
    assert "Welcome to TrialsNest" in form.content.decode()
    response = guest.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/login/"

    assert _sign_in(guest, "new.person@example.com", NEW_PASSWORD)["Location"] == "/"
    assert guest.get("/")["Location"] == "/dashboard/"
    # The invitation works once.
    assert not Client().get(link, follow=True).context["validlink"]


def test_an_invitation_refuses_a_weak_password(world: World, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.admin.user).post(
            "/settings/users/invite/", {"email": "weak@example.com", "role": Role.COORDINATOR}
        )
    guest = Client()
    form_url = guest.get(_link(mail.outbox[0]))["Location"]

    response = guest.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})

    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert _sign_in(Client(), "weak@example.com", "12345678").status_code == 200


# Security headers -----------------------------------------------------------------------------


def test_pages_carry_a_csp_nonce_that_the_htmx_script_tag_uses(world: World):
    response = signed_in(world.coordinator.user).get("/queue/")

    csp = response["Content-Security-Policy"]
    match = re.search(r"script-src [^;]*'nonce-([^']+)'", csp)
    assert match, csp
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    htmx = [tag for tag in scripts if "htmx" in tag]
    assert htmx, scripts
    # Every script, htmx included, runs only thanks to this response's nonce.
    assert all(f'nonce="{match.group(1)}"' in tag for tag in scripts), scripts
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_each_response_gets_a_new_nonce(world: World):
    first = Client().get("/accounts/login/")["Content-Security-Policy"]
    second = Client().get("/accounts/login/")["Content-Security-Policy"]

    assert first != second


def test_the_session_and_csrf_cookies_are_http_only(world: World):
    client = Client()
    client.get("/accounts/login/")
    response = _sign_in(client, world.coordinator.user.email)

    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["httponly"]


def test_pages_may_not_be_framed_or_sniffed(world: World):
    response = Client().get("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password_reset/"])
def test_sign_in_pages_render_without_a_session(world: World, path: str):
    assert Client().get(path).status_code == 200
