"""The visitor's address behind the TLS proxy: the proxy's own X-Forwarded-For entry, so rate
limits and the sign-in lockout count each visitor, not the proxy, and forged entries are ignored.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from tests.conftest import World
from tests.leads.visitors import fresh_address, interest_form
from trialsnest.lib.client_ip import client_ip

PROXY = "10.0.0.5"


def _request(forwarded: str | None = None):
    request = RequestFactory().get("/")
    request.META["REMOTE_ADDR"] = PROXY
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_a_proxy_the_header_is_ignored(settings):
    settings.BEHIND_TLS_PROXY = False
    assert client_ip(_request("81.2.69.160")) == PROXY


@pytest.mark.parametrize(
    ("forwarded", "seen"),
    [
        ("81.2.69.160", "81.2.69.160"),
        # What the client sent comes first; the proxy appends the address it saw.
        ("1.2.3.4, 81.2.69.160", "81.2.69.160"),
        ("2001:db8::7", "2001:db8::7"),
        ("not-an-address", PROXY),
        ("", PROXY),
        (None, PROXY),
    ],
)
def test_behind_the_proxy_the_last_forwarded_address_counts(settings, forwarded, seen):
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(_request(forwarded)) == seen


def _through_proxy(address: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address, HTTP_X_FORWARDED_PROTO="https")


@pytest.mark.django_db
def test_behind_the_proxy_each_visitor_has_their_own_rate_limit(world: World, settings):
    settings.BEHIND_TLS_PROXY = True
    settings.INTEREST_RATE_LIMIT = "1/hour"
    url = f"/studies/{world.study_site_a.study.code}/"
    form = interest_form(phone="", consent=["email"])
    # Addresses of this run only: the limiter's counts outlive a test run in Redis.
    one, two = fresh_address(), fresh_address()

    first = _through_proxy(one).post(url, {**form, "email": "a@example.com"})
    second = _through_proxy(two).post(url, {**form, "email": "b@example.com"})
    # The first visitor again, with a forged address in front of the proxy's entry.
    forged = _through_proxy(f"9.9.9.9, {one}").post(url, {**form, "email": "c@example.com"})

    assert (first.status_code, second.status_code, forged.status_code) == (302, 302, 429)


@pytest.mark.django_db
def test_behind_the_proxy_failed_sign_ins_are_counted_for_the_visitor(world: World, settings):
    settings.BEHIND_TLS_PROXY = True
    email = world.coordinator.user.email
    visitor = fresh_address()
    _through_proxy(visitor).post("/accounts/login/", {"username": email, "password": "x"})

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [visitor]
