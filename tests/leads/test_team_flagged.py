"""The Team page's lists of leads to look at: from an expired recruitment material, and held by
a paused study. Site leads only; another organization's leads never show, and naming another
organization's StudySite or material is a 404."""

from __future__ import annotations

import html
from datetime import date
from itertools import count
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.intake.core import intake
from leads.models import Lead, RecruitmentMaterial
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.services import Actor
from trialsnest.studies.models import RecruitmentStatus, StudySite
from trialsnest.tenancy.models import Organization
from trialsnest.tenancy.services import study_site_update

URL = "/team/flagged/"
_people = count()


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _material(organization: Organization, code: str, expires_on: date | None) -> None:
    RecruitmentMaterial.objects.create(
        organization=organization,
        material_code=code,
        title=code,
        approved_on=date(2020, 1, 1),
        expires_on=expires_on,
    )


def _through(study_site: StudySite, code: str, last_name: str) -> Lead:
    """A lead from the public form, with a material code typed in."""
    n = next(_people)
    return intake(
        study_site=study_site,
        source="web_form",
        actor=Actor(user=None),
        person={"first_name": "Pat", "last_name": last_name, "email": f"flag{n}@example.com"},
        material_code=code,
    ).lead


def _pause(world: World, study_site: StudySite) -> None:
    study_site_update(
        study_site=study_site,
        recruitment_status=RecruitmentStatus.PAUSED,
        actor=Actor(user=world.admin.user),
    )


def test_leads_from_an_expired_material_are_listed_for_site_leads(world: World):
    _material(world.org_a, "OLD-FLYER", date(2021, 1, 1))
    _material(world.org_a, "NEW-FLYER", None)
    expired = _through(world.study_site_a, "OLD-FLYER", "Expiredson")
    _through(world.study_site_a, "NEW-FLYER", "Currentson")
    new_lead(study_site=world.study_site_a, person__last_name="Plainson")

    response = signed_in(world.site_lead.user).get(URL, {"list": "expired"})

    body = text(response)
    assert response.status_code == 200
    assert "Pat Expiredson" in body
    assert "OLD-FLYER" in body
    assert "expired on 2021-01-01" in body
    assert "Currentson" not in body
    assert "Plainson" not in body
    assert f"/leads/{expired.code}/" in body


def test_leads_held_by_a_paused_study_are_listed(world: World):
    held = new_lead(study_site=world.study_site_a2, person__last_name="Heldman")
    new_lead(study_site=world.study_site_a, person__last_name="Freeman")
    _pause(world, world.study_site_a2)

    body = text(signed_in(world.site_lead.user).get(URL, {"list": "paused"}))

    assert "Heldman" in body
    assert "Freeman" not in body
    assert "Study paused" in body
    assert f"/leads/{held.code}/" in body


def test_the_team_page_counts_both_lists_and_links_them(world: World):
    _material(world.org_a, "OLD-FLYER", date(2021, 1, 1))
    _through(world.study_site_a, "OLD-FLYER", "Expiredson")
    new_lead(study_site=world.study_site_a2)
    new_lead(study_site=world.study_site_a2)
    _pause(world, world.study_site_a2)

    response = signed_in(world.site_lead.user).get(reverse("team"))

    body = text(response)
    assert "From an expired recruitment material</a>: 1" in body
    assert "Held: study paused or closed</a>: 2" in body
    assert f"{URL}?list=paused" in body


def test_another_organizations_leads_never_show(world: World):
    _material(world.org_b, "OLD-FLYER", date(2021, 1, 1))
    _through(world.study_site_b, "OLD-FLYER", "Outsideson")
    new_lead(study_site=world.study_site_b, person__last_name="Pausedoutside")
    study_site_update(
        study_site=world.study_site_b,
        recruitment_status=RecruitmentStatus.PAUSED,
        actor=Actor(user=world.outsider.user),
    )
    client = signed_in(world.site_lead.user)

    for name in ("expired", "paused"):
        body = text(client.get(URL, {"list": name}))
        assert "Outsideson" not in body
        assert "Pausedoutside" not in body
        assert "No leads in this list." in body
    outsider = text(signed_in(world.outsider.user).get(URL, {"list": "expired"}))
    assert "Outsideson" in outsider


def test_another_organizations_study_site_or_material_is_a_404(world: World):
    _material(world.org_b, "B-FLYER", None)
    material = RecruitmentMaterial.objects.get(material_code="B-FLYER")
    client = signed_in(world.site_lead.user)

    assert client.get(URL, {"study_site": str(world.study_site_b.code)}).status_code == 404
    assert client.get(URL, {"material": str(material.code)}).status_code == 404
    assert client.get(URL, {"material": "not-a-code"}).status_code == 404


def test_a_list_narrows_to_one_study_site_or_material(world: World):
    _material(world.org_a, "OLD-A", date(2021, 1, 1))
    _material(world.org_a, "OLD-B", date(2021, 1, 1))
    _through(world.study_site_a, "OLD-A", "Alpha")
    _through(world.study_site_a2, "OLD-B", "Bravo")
    client = signed_in(world.site_lead.user)
    old_b = RecruitmentMaterial.objects.get(material_code="OLD-B")

    by_site = text(client.get(URL, {"list": "expired", "study_site": str(world.study_site_a.code)}))
    by_material = text(client.get(URL, {"list": "expired", "material": str(old_b.code)}))

    assert "Alpha" in by_site
    assert "Bravo" not in by_site
    assert "Bravo" in by_material
    assert "Alpha" not in by_material


def test_coordinators_cannot_open_the_lists(world: World):
    assert signed_in(world.coordinator.user).get(URL).status_code == 403


def test_pages_follow_each_other_at_the_same_cost(world: World):
    for _ in range(120):
        new_lead(study_site=world.study_site_a2)
    _pause(world, world.study_site_a2)
    client = signed_in(world.site_lead.user)
    client.get(URL, {"list": "paused"})

    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(URL, {"list": "paused"})
    second_url = URL + first.context["more_url"]
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(second_url)
    third = client.get(URL + second.context["more_url"])

    seen = [[lead.pk for _, _, lead in page.context["rows"]] for page in (first, second, third)]
    assert [len(page) for page in seen] == [50, 50, 20]
    assert len({pk for page in seen for pk in page}) == 120
    assert len(first_queries) == len(second_queries) <= 10
