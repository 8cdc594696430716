"""Recruitment materials: site leads record approved versions; expired ones flag their leads."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.test import Client
from django.utils import timezone

from leads.models import Lead, RecruitmentMaterial
from tests.conftest import World, signed_in
from tests.leads.visitors import interest_form
from trialsnest.audit.models import AuditEvent


def _material(**overrides):
    data = {
        "material_code": "FLYER-V3",
        "title": "Lobby flyer, version 3",
        "study_site": "",
        "approved_on": "2026-01-05",
        "expires_on": "2027-01-05",
    }
    data.update(overrides)
    return data


def test_a_site_lead_records_a_material_version(world: World):
    lead = signed_in(world.site_lead.user)

    response = lead.post("/team/materials/", _material(study_site=str(world.study_site_a.pk)))

    assert response.status_code == 302
    material = RecruitmentMaterial.objects.get()
    assert material.organization == world.org_a
    assert material.study_site == world.study_site_a
    assert (material.approved_on, material.expires_on) == (date(2026, 1, 5), date(2027, 1, 5))
    event = AuditEvent.objects.get(action="material.created")
    assert event.actor == world.site_lead.user
    assert event.object_id == str(material.code)
    page = lead.get("/team/materials/").content.decode()
    assert "FLYER-V3" in page
    assert "Lobby flyer, version 3" in page


def test_an_org_admin_edits_the_expiry_and_it_is_audited(world: World):
    material = RecruitmentMaterial.objects.create(
        organization=world.org_a,
        material_code="AD-1",
        title="Radio ad",
        approved_on=date(2026, 1, 1),
    )
    admin = signed_in(world.admin.user)

    response = admin.post(
        f"/team/materials/{material.code}/",
        _material(
            material_code="AD-1",
            title="Radio ad",
            approved_on="2026-01-01",
            expires_on="2026-06-30",
        ),
    )

    assert response.status_code == 302
    material.refresh_from_db()
    assert material.expires_on == date(2026, 6, 30)
    event = AuditEvent.objects.get(action="material.updated")
    assert event.changes["expires_on"] == {"old": None, "new": "2026-06-30"}


def test_codes_are_unique_per_organization_whatever_the_case_and_expiry_follows_approval(
    world: World,
):
    RecruitmentMaterial.objects.create(
        organization=world.org_a,
        material_code="FLYER-V3",
        title="Flyer",
        approved_on=date(2026, 1, 1),
    )
    lead = signed_in(world.site_lead.user)

    clash = lead.post("/team/materials/", _material(material_code="flyer-v3"))
    backwards = lead.post(
        "/team/materials/", _material(material_code="NEW", expires_on="2025-12-31")
    )
    elsewhere = signed_in(world.outsider.user).post("/team/materials/", _material())

    assert (
        "Another material of your organization has this code."
        in clash.context["form"].errors["material_code"]
    )
    assert backwards.context["form"].errors["expires_on"] == [
        "The approval cannot expire before it was given."
    ]
    assert elsewhere.status_code == 302  # org B may use the same code
    assert RecruitmentMaterial.objects.filter(organization=world.org_a).count() == 1


def test_the_study_choices_are_only_the_organizations_own(world: World):
    form = signed_in(world.site_lead.user).get("/team/materials/").context["form"]

    assert set(form.fields["study_site"].queryset) == {world.study_site_a, world.study_site_a2}


def test_another_organizations_material_is_not_found(world: World):
    theirs = RecruitmentMaterial.objects.create(
        organization=world.org_b, material_code="B-1", title="B flyer", approved_on=date(2026, 1, 1)
    )

    assert signed_in(world.site_lead.user).get(f"/team/materials/{theirs.code}/").status_code == 404
    assert "B-1" not in signed_in(world.site_lead.user).get("/team/materials/").content.decode()


def test_a_lead_from_an_expired_material_is_accepted_and_flagged_where_the_site_lead_looks(
    world: World, visitor: Client
):
    today = timezone.localdate()
    RecruitmentMaterial.objects.create(
        organization=world.org_a,
        material_code="FLYER-V2",
        title="Old flyer",
        approved_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=10),
    )

    response = visitor.post(
        f"/studies/sites/{world.study_site_a.code}/?material=FLYER-V2",
        interest_form(site=str(world.study_site_a.code), material="flyer-v2"),
    )

    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.material is not None
    assert lead.material.material_code == "FLYER-V2"
    assert "expired" in lead.flag
    site_lead = signed_in(world.site_lead.user)
    lead_page = site_lead.get(f"/leads/{lead.code}/").content.decode()
    assert '<span class="blocker">Flagged</span>' in lead_page
    assert lead.flag in lead_page
    queue = site_lead.get("/queue/?tab=all").content.decode()
    row = queue[queue.index(f'id="lead-{lead.code}"') :].split("</tbody>")[0]
    assert re.search(r'<span class="blocker flag" title="[^"]*expired[^"]*">flagged', row)
    expired_list = site_lead.get("/team/materials/").content.decode()
    assert re.search(r"FLYER-V2.*?expired", expired_list, re.S)


def test_a_current_material_links_the_lead_without_a_flag(world: World, visitor: Client):
    material = RecruitmentMaterial.objects.create(
        organization=world.org_a,
        material_code="AD-9",
        title="Bus ad",
        approved_on=timezone.localdate(),
    )

    visitor.get(f"/studies/{world.study_site_a2.study.code}/?material=AD-9")
    visitor.post(
        f"/studies/{world.study_site_a2.study.code}/", interest_form(site=None, material="AD-9")
    )

    lead = Lead.objects.get()
    assert lead.material == material
    assert lead.flag == ""
    queue = signed_in(world.site_lead.user).get("/queue/?tab=all").content.decode()
    assert "flagged" not in queue


def test_the_material_code_from_the_link_is_filled_in(world: World, visitor: Client):
    page = visitor.get(f"/studies/{world.study_site_a2.study.code}/?material=AD-9").content.decode()

    assert re.search(r'<input type="text" name="material" value="AD-9"', page)
