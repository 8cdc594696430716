"""Nobody reaches a lead's records they may not see: another organization's admin and a sponsor
viewer get a 404 from every records URL and fragment, and a coordinator restricted to
study_site_a gets a 404 for a study_site_a2 lead's records, as for the lead itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from leads.models import Lead
from records.models import Provider, RecordItem
from records.services import requirement_create
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, new_lead
from tests.leads.conftest import actor_of
from tests.records.conftest import items_of, to_records
from trialsnest.tenancy.models import Role

HTMX = {"HX-Request": "true"}


def _urls(lead: Lead, item: RecordItem) -> list[str]:
    def action(name: str) -> str:
        return reverse(
            "record_item_action", kwargs={"code": lead.code, "item": item.code, "action": name}
        )

    return [
        reverse("lead_records", kwargs={"code": lead.code}),
        reverse("records_letters", kwargs={"code": lead.code}),
        action("request"),
    ]


@pytest.fixture
def lead_a2(world: World, checklist) -> Lead:
    """A lead at the records step at study_site_a2, which the coordinator may not see."""
    requirement_create(
        study_site=world.study_site_a2, name="ECG", required=True, lookback_days=None,
        instructions="", actor=actor_of(world),
    )  # fmt: skip
    return to_records(new_lead(study_site=world.study_site_a2), world)


VISITORS: dict[str, Callable[[World], object]] = {
    "outsider": lambda world: world.outsider.user,
    "sponsor": lambda world: world.sponsor_viewer,
}


@pytest.mark.parametrize("who", sorted(VISITORS))
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_another_organization_and_a_sponsor_get_a_404_from_every_records_url(
    world: World, records_lead: Lead, provider: Provider, who: str, headers: dict[str, str]
):
    client = signed_in(VISITORS[who](world))  # type: ignore[arg-type]
    item = items_of(records_lead)["HbA1c"]

    for url in _urls(records_lead, item):
        assert client.get(url, headers=headers).status_code == 404, url
        assert client.post(url, {}, headers=headers).status_code in (404, 405), url
    edit = reverse("records_provider_edit", kwargs={"code": provider.code})
    assert client.get(edit, headers=headers).status_code == 404
    item.refresh_from_db()
    assert item.state == "needed"


def test_a_restricted_coordinator_reaches_only_the_records_of_their_study_sites(
    world: World, records_lead: Lead, lead_a2: Lead, provider: Provider
):
    client = signed_in(world.coordinator.user)
    mine, theirs = items_of(records_lead)["HbA1c"], items_of(lead_a2)["ECG"]

    for url in _urls(records_lead, mine):
        assert client.get(url).status_code == 200, url
    for url in _urls(lead_a2, theirs):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=HTMX).status_code == 404, url
    post = client.post(_urls(lead_a2, theirs)[2], {"provider": provider.pk, "method": "fax"})
    assert post.status_code == 404
    # The checklists are the site leads' to edit.
    checklist = reverse("records_checklist", kwargs={"code": world.study_site_a.code})
    assert client.get(checklist).status_code == 403


def test_a_site_lead_cannot_edit_another_organizations_checklist(world: World):
    client = signed_in(world.outsider.user)
    url = reverse("records_checklist", kwargs={"code": world.study_site_a.code})

    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Sneaky"}).status_code == 404


def test_a_restricted_site_lead_edits_only_the_checklists_of_their_study_sites(
    world: World, checklist
):
    restricted = MembershipFactory(organization=world.org_a, role=Role.SITE_LEAD)
    restricted.restricted_study_sites.set([world.study_site_a2])
    client = signed_in(restricted.user)
    theirs = reverse("records_checklist", kwargs={"code": world.study_site_a.code})
    mine = reverse("records_checklist", kwargs={"code": world.study_site_a2.code})
    requirement = reverse("records_requirement_edit", kwargs={"code": checklist[0].code})

    assert client.get(mine).status_code == 200
    assert client.get(theirs).status_code == 404
    assert client.get(requirement).status_code == 404
    archive = reverse("records_requirement_archive", kwargs={"code": checklist[0].code})
    assert client.post(archive).status_code == 404
    checklist[0].refresh_from_db()
    assert checklist[0].archived_at is None
