"""The public study page: each site's lay summary, its sites, and nothing private."""

from __future__ import annotations

import re
import uuid

from django.test import Client

from tests.conftest import World
from tests.factories import LeadFactory, PersonFactory
from tests.leads.visitors import recruiting
from trialsnest.studies.models import RecruitmentStatus


def test_each_site_shows_its_lay_summary_or_else_the_registrys_summary(
    world: World, visitor: Client
):
    study = world.study_site_a.study
    study.brief_summary = "The registry's summary of the protocol."
    study.save()
    world.study_site_a.lay_summary = "A plain-language summary from A North."
    world.study_site_a.save()

    page = visitor.get(f"/studies/{study.code}/").content.decode()

    north = page[page.index(f'id="site-{world.study_site_a.code}"') :]
    central = page[page.index(f'id="site-{world.study_site_b.code}"') :]
    assert "A plain-language summary from A North." in north.split("</article>")[0]
    assert "The registry&#x27;s summary of the protocol." in central.split("</article>")[0]
    assert "The registry&#x27;s summary" not in north.split("</article>")[0]


def test_it_lists_every_recruiting_site_and_no_other(world: World, visitor: Client):
    paused = recruiting(
        study=world.study_site_a.study,
        name="Paused Place",
        recruitment_status=RecruitmentStatus.PAUSED,
    )

    page = visitor.get(f"/studies/{world.study_site_a.study.code}/").content.decode()

    assert "A North" in page
    assert "B Central" in page
    assert paused.site.name not in page


def test_a_site_page_shows_the_study_with_that_site_chosen(world: World, visitor: Client):
    page = visitor.get(f"/studies/sites/{world.study_site_b.code}/").content.decode()

    assert world.study_site_a.study.brief_title in page
    assert re.search(rf'value="{world.study_site_b.code}"[^>]*checked', page)


def test_unknown_and_not_recruiting_studies_are_not_found(world: World, visitor: Client):
    paused = recruiting(recruitment_status=RecruitmentStatus.PAUSED)
    closed = recruiting(recruitment_status=RecruitmentStatus.CLOSED)

    assert visitor.get(f"/studies/{uuid.uuid4()}/").status_code == 404
    assert visitor.get(f"/studies/{paused.study.code}/").status_code == 404
    assert visitor.get(f"/studies/sites/{closed.code}/").status_code == 404
    assert visitor.get(f"/studies/sites/{uuid.uuid4()}/").status_code == 404
    # A StudySite's code is not a study's, and the other way round.
    assert visitor.get(f"/studies/{world.study_site_a.code}/").status_code == 404
    assert visitor.get(f"/studies/sites/{world.study_site_a.study.code}/").status_code == 404
    assert visitor.post(f"/studies/{paused.study.code}/", {}).status_code == 404


def test_the_page_shows_no_ones_data_and_nothing_internal(world: World, visitor: Client):
    person = PersonFactory(organization=world.org_a, first_name="Zebulon", last_name="Quist")
    LeadFactory(study_site=world.study_site_a, person=person)
    world.study_site_a.enrollment_target = 4321
    world.study_site_a.save()

    for url in (
        "/studies/",
        f"/studies/{world.study_site_a.study.code}/",
        f"/studies/sites/{world.study_site_a.code}/",
        f"/studies/{world.study_site_a.study.code}/thanks/",
    ):
        page = visitor.get(url).content.decode()
        assert "Zebulon" not in page
        assert person.email not in page
        assert "4321" not in page
        assert world.org_a.name not in page


def test_every_form_control_has_a_label_and_the_form_needs_no_javascript(
    world: World, visitor: Client
):
    page = visitor.get(f"/studies/{world.study_site_a.study.code}/").content.decode()

    form = page[page.index('<form method="post"') : page.index("</form>")]
    assert "<script" not in page
    ids = re.findall(r'<input type="(?:text|tel|email|radio|checkbox)"[^>]*id="([^"]+)"', form)
    assert ids
    for control in ids:
        assert f'for="{control}"' in form, control
    assert "csrfmiddlewaretoken" in form
    assert "<legend>How may the study team contact you?</legend>" in form
