"""Launch readiness: a StudySite not yet recruiting shows what it lacks, each item with a link to
fix it, and cannot be set to recruiting until every item is done."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from leads.models import Policy, RecruitmentMaterial
from records.models import RecordRequirement
from scheduling.models import Resource, VisitType
from tests.conftest import World, signed_in
from tests.prescreen.conftest import build_questionnaire
from tests.scheduling.conftest import visit_type_at
from trialsnest.audit.services import Actor
from trialsnest.studies.models import RecruitmentStatus, StudySite
from trialsnest.studies.readiness import missing, readiness
from trialsnest.tenancy.services import study_site_create, study_site_update

pytestmark = pytest.mark.django_db
LABELS = [
    "Coordinators to own its new leads",
    "Its public page and interest form",
    "SLA targets and contact cadence",
    "A published prescreen",
    "A records checklist",
    "Visit types and bookable capacity",
    "Approved recruitment materials",
    "Who receives the sponsor update",
]


def _not_yet(study_site: StudySite) -> StudySite:
    StudySite.objects.filter(pk=study_site.pk).update(
        recruitment_status=RecruitmentStatus.NOT_YET_RECRUITING, lay_summary=""
    )
    return StudySite.objects.get(pk=study_site.pk)


def _set_up(world: World, study_site: StudySite) -> None:
    """Everything the checklist asks of world.study_site_a (its coordinator and sponsor viewer
    come with the world)."""
    actor = Actor(world.site_lead.user)
    StudySite.objects.filter(pk=study_site.pk).update(lay_summary="A study of a new eye drop.")
    Policy.objects.create(study_site=study_site)
    build_questionnaire(study_site, actor)
    RecordRequirement.objects.create(
        organization_id=study_site.organization_id, study_site=study_site, name="Eye exam"
    )
    visit_type_at(study_site)
    RecruitmentMaterial.objects.create(
        organization_id=study_site.organization_id,
        study_site=study_site,
        material_code="FLYER-1",
        title="Flyer",
        approved_on=date(2026, 1, 5),
    )


def _launch(world: World, study_site: StudySite) -> StudySite:
    return study_site_update(
        study_site=study_site,
        actor=Actor(world.admin.user),
        recruitment_status=RecruitmentStatus.RECRUITING,
    )


def test_every_area_of_the_product_has_its_item_in_order(world: World):
    items = readiness(world.study_site_a)
    assert [item.label for item in items] == LABELS
    assert all(item.fix_url.startswith("/") and item.fix_label for item in items)


def test_a_study_site_set_up_in_full_may_start_recruiting(world: World):
    study_site = _not_yet(world.study_site_a)
    _set_up(world, study_site)
    assert missing(StudySite.objects.get(pk=study_site.pk)) == []
    launched = _launch(world, StudySite.objects.get(pk=study_site.pk))
    assert launched.recruitment_status == RecruitmentStatus.RECRUITING


def test_launching_with_items_to_do_is_refused_naming_them_and_saves_nothing(world: World):
    study_site = _not_yet(world.study_site_a)
    with pytest.raises(ValidationError) as refused:
        study_site_update(
            study_site=study_site,
            actor=Actor(world.admin.user),
            recruitment_status=RecruitmentStatus.RECRUITING,
            enrollment_target=40,
        )
    message = refused.value.message_dict["recruitment_status"][0]
    assert message.startswith("Not ready to recruit: ")
    assert "a published prescreen" in message
    assert "coordinators to own" not in message  # world's coordinator sees study_site_a
    study_site.refresh_from_db()
    assert study_site.recruitment_status == RecruitmentStatus.NOT_YET_RECRUITING
    assert study_site.enrollment_target != 40


def test_the_settings_page_shows_the_checklist_with_a_link_to_fix_each_item(world: World):
    study_site = _not_yet(world.study_site_a)
    admin = signed_in(world.admin.user)
    url = f"/settings/studies/{study_site.code}/"
    page = html.unescape(admin.get(url).content.decode())
    assert "Launch checklist" in page
    assert page.count("To do:") == 6  # owners and the sponsor viewer come with the world
    assert page.count("Done:") == 2
    assert f'href="/prescreen/study-sites/{study_site.code}/"' in page
    assert f'href="/study-sites/{study_site.code}/records/"' in page

    posted = admin.post(url, {"recruitment_status": "recruiting", "rank": 100})
    assert posted.status_code == 200
    assert "Not ready to recruit: " in html.unescape(posted.content.decode())
    study_site.refresh_from_db()
    assert study_site.recruitment_status == RecruitmentStatus.NOT_YET_RECRUITING

    _set_up(world, study_site)
    shared = {"sponsor_viewers": [world.sponsor_viewer.pk], "lay_summary": "A new eye drop."}
    done = admin.post(url, {"recruitment_status": "recruiting", "rank": 100, **shared})
    assert done.status_code == 302, re.findall(r"Not ready[^<]*", done.content.decode())
    study_site.refresh_from_db()
    assert study_site.recruitment_status == RecruitmentStatus.RECRUITING


def test_a_study_not_yet_recruiting_has_no_public_page(world: World):
    study_site = _not_yet(world.study_site_a)
    assert Client().get(f"/studies/{study_site.code}/").status_code == 404


def test_a_paused_study_resumes_without_the_checklist(world: World):
    StudySite.objects.filter(pk=world.study_site_a.pk).update(
        recruitment_status=RecruitmentStatus.PAUSED
    )
    resumed = _launch(world, StudySite.objects.get(pk=world.study_site_a.pk))
    assert resumed.recruitment_status == RecruitmentStatus.RECRUITING


def test_a_new_study_site_starts_not_yet_recruiting(world: World):
    form = signed_in(world.admin.user).get("/settings/studies/new/").content.decode()
    assert 'value="not_yet_recruiting" selected' in form or "not_yet_recruiting" in form
    assert 'value="recruiting"' not in form
    with pytest.raises(ValidationError) as refused:
        study_site_create(
            organization=world.org_a,
            site=world.site_a2,
            study=world.study_site_b.study,
            actor=Actor(world.admin.user),
            recruitment_status=RecruitmentStatus.RECRUITING,
        )
    assert "starts as not yet recruiting" in str(refused.value)


def test_a_visit_type_needing_a_resource_out_of_service_is_not_capacity(world: World):
    visit_type = visit_type_at(world.study_site_a)
    item = {i.label: i for i in readiness(world.study_site_a)}["Visit types and bookable capacity"]
    assert item.done
    Resource.objects.filter(visit_types=visit_type).update(is_active=False)
    item = {i.label: i for i in readiness(world.study_site_a)}["Visit types and bookable capacity"]
    assert not item.done
    VisitType.objects.filter(pk=visit_type.pk).update(is_active=False)
    assert not {i.label: i for i in readiness(world.study_site_a)}[LABELS[5]].done


def test_an_expired_material_does_not_count(world: World):
    RecruitmentMaterial.objects.create(
        organization=world.org_a,
        material_code="OLD",
        title="Old flyer",
        approved_on=date(2020, 1, 1),
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    assert not {i.label: i for i in readiness(world.study_site_a)}[LABELS[6]].done
    RecruitmentMaterial.objects.create(
        organization=world.org_a, material_code="ALL", title="Poster", approved_on=date(2026, 1, 1)
    )
    assert {i.label: i for i in readiness(world.study_site_a)}[LABELS[6]].done  # org-wide
