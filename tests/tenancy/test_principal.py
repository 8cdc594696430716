"""The principal query: user, memberships, organizations, the bell's count and the confirmed
second-factor devices read in one statement, and none of the checks weakened by it (a
deactivated member, a removed device, a sponsor viewer)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World, signed_in
from tests.tenancy.test_two_factor import _enrol, _sign_in
from trialsnest.tenancy.principal import PrincipalBackend

pytestmark = pytest.mark.django_db


def test_the_user_memberships_devices_and_counts_come_in_one_query(world: World):
    TOTPDevice.objects.create(user=world.coordinator.user, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=world.coordinator.user, name="old", confirmed=False)

    with CaptureQueriesContext(connection) as queries:
        user: Any = PrincipalBackend().get_user(world.coordinator.user.pk)
    assert len(queries) == 1
    assert user is not None
    assert [m.organization.name for m in user.loaded_memberships] == ["Org A"]
    assert user.loaded_memberships[0].unread == 0
    assert len(user.device_ids) == 1
    assert user.device_ids[0].startswith("otp_totp.totpdevice/")


def test_a_user_without_memberships_is_read_too(world: World):
    user: Any = PrincipalBackend().get_user(world.sponsor_viewer.pk)
    assert user == world.sponsor_viewer
    assert user.loaded_memberships == []
    assert signed_in(world.sponsor_viewer).get("/reports/").status_code == 200


def test_an_inactive_user_is_nobody(world: World):
    world.coordinator.user.is_active = False
    world.coordinator.user.save()
    assert PrincipalBackend().get_user(world.coordinator.user.pk) is None


def test_a_deactivated_member_is_signed_out_on_the_next_request(world: World):
    client = signed_in(world.coordinator.user)
    assert client.get("/queue/").status_code == 200
    world.coordinator.is_active = False
    world.coordinator.save()
    assert client.get("/queue/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_session_verified_by_a_removed_device_is_asked_again(world: World):
    client = _sign_in(world.coordinator.user.email)
    device, _codes = _enrol(client)  # enrolment verifies this session with the new device
    assert client.get("/queue/").status_code == 200

    device.delete()
    TOTPDevice.objects.create(user=world.coordinator.user, name="new phone", confirmed=True)
    asked = client.get("/queue/")
    assert asked.status_code == 302
    assert asked["Location"].startswith("/accounts/two-factor/")
