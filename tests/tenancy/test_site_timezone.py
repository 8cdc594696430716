"""A site's time zone is required, never New York's by default: the form offers the one its
address suggests (or the organization's usual one) for the admin to check."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, OrganizationFactory, SiteFactory
from trialsnest.audit.services import Actor
from trialsnest.lib.timezones import suggest_timezone
from trialsnest.tenancy.models import Role, Site
from trialsnest.tenancy.services import site_save

NEW = "/settings/sites/new/"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def selected_zone(response: Any) -> str:
    match = re.search(
        r'<select name="timezone".*?<option value="([^"]*)" selected>', text(response), re.S
    )
    return match.group(1) if match else ""


def _form(**fields: Any) -> dict[str, Any]:
    return {"opens_at": "09:00", "closes_at": "17:00", "business_days": ["1", "2"], **fields}


@pytest.fixture
def newcomer(db: None) -> Client:
    """The admin of an organization without a site yet."""
    admin = MembershipFactory(organization=OrganizationFactory(), role=Role.ORG_ADMIN)
    return signed_in(admin.user)


def test_a_site_with_only_a_name_is_refused_and_gets_no_time_zone(newcomer: Client):
    response = newcomer.post(NEW, _form(name="Lakeside East"))

    assert response.status_code == 200
    assert "Pick the site's time zone." in text(response)
    assert not Site.objects.filter(name="Lakeside East").exists()


def test_the_address_suggests_the_zone_selected_for_the_admin_to_check(newcomer: Client):
    form = _form(name="Aurora", city="Aurora", state="Colorado", country="United States")

    offered = newcomer.post(NEW, form)

    assert "America/Denver is suggested from Colorado, United States" in text(offered)
    assert selected_zone(offered) == "America/Denver"
    assert not Site.objects.filter(name="Aurora").exists()
    saved = newcomer.post(NEW, {**form, "timezone": selected_zone(offered)})
    assert saved.status_code == 302
    assert Site.objects.get(name="Aurora").timezone == "America/Denver"


def test_without_an_address_the_organizations_usual_zone_is_offered(world: World):
    SiteFactory(organization=world.org_a, name="A West", timezone="America/Los_Angeles")
    admin = signed_in(world.admin.user)  # org A: two sites in Chicago, one in Los Angeles

    assert selected_zone(admin.get(NEW)) == "America/Chicago"
    offered = admin.post(NEW, _form(name="A East"))
    assert "America/Chicago is the one most of your sites use" in text(offered)
    assert selected_zone(offered) == "America/Chicago"


def test_a_new_organizations_first_site_form_selects_no_zone(newcomer: Client):
    assert selected_zone(newcomer.get(NEW)) == ""


def test_the_site_list_shows_each_sites_zone(world: World):
    SiteFactory(organization=world.org_a, name="A West", timezone="America/Los_Angeles")

    body = text(signed_in(world.admin.user).get("/settings/sites/"))

    assert re.search(r"A West</a></td>\s*<td>[^<]*</td>\s*<td>America/Los_Angeles</td>", body)


def test_the_site_service_refuses_a_site_without_a_zone_for_every_door(world: World):
    site = Site(organization=world.org_a, name="No clock")

    with pytest.raises(ValidationError) as refusal:
        site_save(site=site, actor=Actor(user=world.admin.user))

    assert "timezone" in refusal.value.message_dict
    assert not Site.objects.filter(name="No clock").exists()


@pytest.mark.parametrize(
    ("state", "country", "zone"),
    [
        ("Illinois", "United States", "America/Chicago"),
        ("TX", "USA", "America/Chicago"),
        ("az", "U.S.", "America/Phoenix"),
        ("Indiana", "united states of america", "America/Indiana/Indianapolis"),
        ("", "Puerto Rico", "America/Puerto_Rico"),
        ("British Columbia", "Canada", "America/Vancouver"),
        ("Madrid", "España", "Europe/Madrid"),
        ("Las Palmas", "Spain", "Atlantic/Canary"),
        ("", "United Kingdom", "Europe/London"),
        # Several zones and no state the table knows, or a country it does not know: none.
        ("", "United States", ""),
        ("Ontaryo", "Canada", ""),
        ("Bavaria", "Germany", ""),
    ],
)
def test_the_suggestion_for_an_address(state: str, country: str, zone: str):
    assert suggest_timezone(state=state, country=country) == zone


# The suggestion before saving (htmx, when the state or country changes) ---------------------

SUGGEST = "/settings/sites/timezone/"
HTMX = {"HX-Request": "true"}


def test_changing_the_state_or_country_asks_for_the_zone_they_suggest(newcomer: Client):
    form = text(newcomer.get(NEW))

    for name in ("state", "country"):
        field = re.search(rf'<input type="text" name="{name}"[^>]*>', form)
        assert field is not None, name
        assert f'hx-get="{SUGGEST}"' in field.group(0)
        assert 'hx-target="#id_timezone"' in field.group(0)
        assert "[name=state], [name=country], [name=timezone]" in field.group(0)


def test_the_suggestion_selects_the_addresss_zone_before_saving(newcomer: Client):
    response = newcomer.get(
        SUGGEST, {"state": "CA", "country": "US", "timezone": "America/New_York"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "<html" not in text(response)
    assert selected_zone(response) == "America/Los_Angeles"
    assert 'hx-swap-oob="true"' in text(response)
    assert "America/Los_Angeles is suggested from CA, US: check it before saving." in text(response)
    assert not Site.objects.exists()  # nothing is saved


def test_without_a_suggestion_the_zone_picked_stays_and_the_choice_is_still_required(
    newcomer: Client,
):
    kept = newcomer.get(
        SUGGEST, {"state": "", "country": "Atlantis", "timezone": "Europe/Paris"}, headers=HTMX
    )
    empty = newcomer.get(SUGGEST, {"country": "Atlantis", "timezone": "Not/AZone"}, headers=HTMX)

    assert selected_zone(kept) == "Europe/Paris"
    assert "is suggested" not in text(kept)
    assert selected_zone(empty) == ""  # "— pick —": saving still asks for a zone
    assert "required" in re.search(r"<select[^>]*>", text(empty)).group(0)  # type: ignore[union-attr]


def test_only_an_org_admin_asks_for_the_suggestion(world: World):
    for user, status in ((world.coordinator.user, 403), (world.site_lead.user, 403)):
        assert signed_in(user).get(SUGGEST, {"state": "CA", "country": "US"}).status_code == status
    assert Client().get(SUGGEST).status_code == 302
