"""create_organization: a fresh install's first organization and admin, invited by e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from tests.factories import SponsorMembershipFactory
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Membership, Organization, Role

pytestmark = pytest.mark.django_db


def test_it_creates_the_organization_and_invites_its_admin(
    settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://trials.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_organization", "Lakeside Research", "Admin@Lakeside.example")

    organization = Organization.objects.get(name="Lakeside Research")
    membership = Membership.objects.get(organization=organization)
    assert membership.role == Role.ORG_ADMIN
    assert membership.user.email == "admin@lakeside.example"
    assert not membership.user.has_usable_password()
    [invitation] = mail.outbox
    assert invitation.to == ["admin@lakeside.example"]
    assert "https://trials.example.org/" in invitation.body
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "organization.created",
        "membership.invited",
    }


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", "a@example.org", "Give the organization a name"),
        ("Harbor", "not-an-address", "is not an e-mail address"),
    ],
)
def test_bad_input_is_refused_with_a_message(name, email, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_organization", name, email)
    assert not Organization.objects.exists()


def test_a_second_organization_of_the_same_name_is_refused():
    call_command("create_organization", "Harbor", "a@example.org")
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_organization", "harbor", "b@example.org")
    assert Organization.objects.count() == 1


def test_a_sponsor_viewers_address_leaves_nothing_behind():
    viewer = SponsorMembershipFactory().user
    with pytest.raises(CommandError, match="sponsor viewer"):
        call_command("create_organization", "Harbor", viewer.email)
    assert not Organization.objects.exists()
