"""Another organization's objects are a 404, through the gatekeepers and through the views."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.test import RequestFactory

from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, OrganizationFactory, SiteFactory
from trialsnest.tenancy.gatekeepers import (
    get_membership_for_user,
    get_site_for_user,
    get_study_site_for_user,
)
from trialsnest.tenancy.models import Membership, Role


def _request_as(membership: Membership | None) -> HttpRequest:
    request = RequestFactory().get("/")
    request.membership = membership  # type: ignore[attr-defined]  # set by the middleware
    return request


# Gatekeeper functions ------------------------------------------------------------------------


def test_it_returns_org_a_objects_to_org_a_admin(world: World):
    request = _request_as(world.admin)

    assert get_site_for_user(request, world.site_a.code) == world.site_a
    assert get_study_site_for_user(request, world.study_site_a2.code) == world.study_site_a2
    assert get_membership_for_user(request, world.coordinator.code) == world.coordinator


def test_it_returns_404_for_another_organizations_site(world: World):
    with pytest.raises(Http404):
        get_site_for_user(_request_as(world.admin), world.site_b.code)


def test_it_returns_404_for_another_organizations_study_site(world: World):
    with pytest.raises(Http404):
        get_study_site_for_user(_request_as(world.admin), world.study_site_b.code)


def test_it_returns_404_for_another_organizations_membership(world: World):
    with pytest.raises(Http404):
        get_membership_for_user(_request_as(world.admin), world.outsider.code)


def test_it_returns_404_to_the_outsider_for_each_org_a_object(world: World):
    request = _request_as(world.outsider)

    with pytest.raises(Http404):
        get_site_for_user(request, world.site_a.code)
    with pytest.raises(Http404):
        get_study_site_for_user(request, world.study_site_a.code)
    with pytest.raises(Http404):
        get_membership_for_user(request, world.admin.code)


@pytest.mark.parametrize("code", ["not-a-uuid", "", "6f1c2a4e-1b7d-4c3e-9a55-0c2f8e7d9b10"])
def test_it_returns_404_for_a_malformed_or_unknown_code(world: World, code: str):
    with pytest.raises(Http404):
        get_site_for_user(_request_as(world.admin), code)


def test_it_refuses_a_request_without_an_active_organization(world: World):
    with pytest.raises(PermissionDenied):
        get_site_for_user(_request_as(None), world.site_a.code)


def test_a_restricted_coordinator_gets_404_for_the_other_study_site(world: World):
    request = _request_as(world.coordinator)

    assert get_study_site_for_user(request, world.study_site_a.code) == world.study_site_a
    with pytest.raises(Http404):
        get_study_site_for_user(request, world.study_site_a2.code)


def test_a_coordinator_restricted_to_a_site_sees_every_study_site_there(world: World):
    coordinator = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    coordinator.restricted_sites.set([world.site_a2])
    request = _request_as(coordinator)

    assert get_study_site_for_user(request, world.study_site_a2.code) == world.study_site_a2
    with pytest.raises(Http404):
        get_study_site_for_user(request, world.study_site_a.code)


def test_an_unrestricted_site_lead_sees_every_study_site_of_the_organization(world: World):
    request = _request_as(world.site_lead)

    assert get_study_site_for_user(request, world.study_site_a.code) == world.study_site_a
    assert get_study_site_for_user(request, world.study_site_a2.code) == world.study_site_a2
    with pytest.raises(Http404):
        get_study_site_for_user(request, world.study_site_b.code)


# Through the settings views -------------------------------------------------------------------


def test_the_settings_views_return_404_for_another_organizations_objects(world: World):
    client = signed_in(world.admin.user)

    assert client.get(f"/settings/sites/{world.site_b.code}/").status_code == 404
    assert client.get(f"/settings/studies/{world.study_site_b.code}/").status_code == 404
    assert client.get(f"/settings/users/{world.outsider.code}/").status_code == 404


def test_the_settings_views_change_nothing_of_another_organization_on_post(world: World):
    client = signed_in(world.admin.user)

    site_form = {
        "name": "Taken over",
        "timezone": "UTC",
        "opens_at": "08:00",
        "closes_at": "18:00",
        "business_days": ["1"],
    }
    assert client.post(f"/settings/sites/{world.site_b.code}/", site_form).status_code == 404
    url = f"/settings/users/{world.outsider.code}/deactivate/"
    assert client.post(url).status_code == 404
    url = f"/settings/users/{world.outsider.code}/"
    assert client.post(url, {"role": Role.COORDINATOR}).status_code == 404
    url = f"/settings/studies/{world.study_site_b.code}/"
    assert client.post(url, {"recruitment_status": "closed", "rank": 1}).status_code == 404

    world.site_b.refresh_from_db()
    world.outsider.refresh_from_db()
    world.study_site_b.refresh_from_db()
    assert world.site_b.name == "B Central"
    assert world.outsider.is_active
    assert world.outsider.role == Role.ORG_ADMIN
    assert world.study_site_b.recruitment_status == "recruiting"


def test_the_settings_lists_show_only_the_active_organizations_objects(world: World):
    client = signed_in(world.admin.user)

    sites = client.get("/settings/sites/").content.decode()
    users = client.get("/settings/").content.decode()

    assert "A North" in sites
    assert "B Central" not in sites
    assert world.coordinator.user.email in users
    assert world.outsider.user.email not in users


# Two organizations ---------------------------------------------------------------------------


@pytest.fixture
def two_org_user(world: World) -> Membership:
    """Org A's site lead, who is also the org admin of a third organization."""
    org_c = OrganizationFactory(name="Org C")
    SiteFactory(organization=org_c, name="C East")
    MembershipFactory(user=world.site_lead.user, organization=org_c, role=Role.ORG_ADMIN)
    return world.site_lead


def test_a_user_in_two_organizations_is_sent_to_the_chooser(two_org_user: Membership):
    client = signed_in(two_org_user.user)

    assert client.get("/")["Location"] == "/organizations/"
    assert client.get("/dashboard/")["Location"] == "/organizations/"
    page = client.get("/organizations/").content.decode()
    assert "Org A" in page
    assert "Org C" in page


def test_a_user_in_two_organizations_can_switch_the_active_one(
    world: World, two_org_user: Membership
):
    client = signed_in(two_org_user.user)
    org_c = two_org_user.user.memberships.get(organization__name="Org C").organization

    response = client.post("/organizations/", {"code": str(world.org_a.code)})
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == "/dashboard/"
    assert client.get("/settings/").status_code == 403  # a site lead in org A

    client.post("/organizations/", {"code": str(org_c.code)})
    assert client.get("/")["Location"] == "/settings/"
    assert client.get("/settings/").context["active_membership"].organization == org_c
    # An org admin in Org C, for whom org A's site is another tenant's.
    assert client.get(f"/settings/sites/{world.site_a.code}/").status_code == 404


def test_a_user_cannot_choose_an_organization_they_are_not_in(
    world: World, two_org_user: Membership
):
    client = signed_in(two_org_user.user)

    response = client.post("/organizations/", {"code": str(world.org_b.code)}, follow=True)

    assert "Pick one of your organizations." in response.content.decode()
    assert client.session.get("organization") is None
    assert client.get("/")["Location"] == "/organizations/"


def test_a_user_cannot_choose_an_organization_where_they_were_deactivated(
    world: World, two_org_user: Membership
):
    Membership.objects.filter(pk=two_org_user.pk).update(is_active=False)
    client = signed_in(two_org_user.user)

    client.post("/organizations/", {"code": str(world.org_a.code)})

    assert client.session.get("organization") != str(world.org_a.code)
    # Only Org C is left, so it is chosen for them.
    assert client.get("/")["Location"] == "/settings/"
