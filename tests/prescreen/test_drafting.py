"""A draft proposed from the study's ClinicalTrials.gov record: structured limits as rules, one
yes/no question per inclusion and exclusion bullet; never published without a person."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from prescreen.drafting import age_in_years, criteria_bullets, draft_questions
from prescreen.models import QuestionKind, Questionnaire, RuleEffect, VersionStatus
from prescreen.selectors import published_version
from prescreen.services.questionnaires import version_draft_from_study
from tests.conftest import World
from tests.factories import StudyFactory, StudySiteFactory
from trialsnest.audit.services import Actor
from trialsnest.studies.ctgov import parse_study
from trialsnest.studies.models import Study

ONE_STUDY = Path(__file__).resolve().parents[2] / "trialsnest/studies/data/ctgov/NCT02576665.json"


@pytest.fixture
def toca(db) -> Study:
    call_command("import_ctgov", str(ONE_STUDY), stdout=StringIO())
    return Study.objects.get(nct_id="NCT02576665")


def test_the_real_record_gives_one_question_per_top_level_bullet(toca: Study):
    bullets = criteria_bullets(toca.eligibility_criteria)

    assert (len(bullets["inclusion"]), len(bullets["exclusion"])) == (13, 12)
    assert bullets["inclusion"][0].text == "Patient has given written informed consent."
    # Sub-bullets belong to their criterion, escapes are undone.
    assert len(bullets["inclusion"][5].details) == 3
    assert "[ie, ≥ 12 months" in bullets["inclusion"][6].text
    assert bullets["exclusion"][-1].text.startswith("Patient has previously participated")


def test_inclusion_no_and_exclusion_yes_need_review_and_age_knocks_out(toca: Study):
    drafts = draft_questions(
        minimum_age=toca.minimum_age,
        maximum_age=toca.maximum_age,
        sex=toca.sex,
        healthy_volunteers=None,
        conditions=list(toca.conditions),
        criteria=toca.eligibility_criteria,
    )

    age = drafts[0]
    assert (age.kind, age.unit) == (QuestionKind.NUMBER, "years")
    assert [(r.effect, r.operator, r.value) for r in age.rules] == [
        (RuleEffect.KNOCKOUT, "below", "18"),
        (RuleEffect.KNOCKOUT, "above", "75"),
    ]
    criteria = drafts[1:]
    assert len(criteria) == 25
    inclusion = [q for q in criteria if q.origin.startswith("inclusion")]
    exclusion = [q for q in criteria if q.origin.startswith("exclusion")]
    assert {(r.effect, r.value) for q in inclusion for r in q.rules} == {(RuleEffect.REVIEW, "no")}
    assert {(r.effect, r.value) for q in exclusion for r in q.rules} == {(RuleEffect.REVIEW, "yes")}
    assert all(q.kind == QuestionKind.YES_NO and len(q.text) <= 500 for q in criteria)


def test_sex_and_healthy_volunteers_become_review_questions():
    drafts = draft_questions(
        minimum_age="6 Months",
        maximum_age="20 Years",
        sex="FEMALE",
        healthy_volunteers=False,
        conditions=["Melanoma"],
        criteria="",
    )

    assert [q.origin for q in drafts] == [
        "registry age limits",
        "registry sex",
        "registry healthy volunteers",
    ]
    assert [r.value for r in drafts[0].rules] == ["0.5", "20"]
    assert [(r.operator, r.value) for r in drafts[1].rules] == [("is", "Male")]
    assert drafts[2].text == "Have you been diagnosed with Melanoma?"
    assert drafts[2].rules[0].value == "no"


def test_ages_read_in_every_unit_the_registry_uses():
    assert age_in_years("18 Years") == Decimal(18)
    assert age_in_years("3 Months") == Decimal("0.25")
    assert age_in_years("N/A") is None
    assert age_in_years("") is None


def test_the_importer_reads_healthy_volunteers():
    record = parse_study(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT01234567", "briefTitle": "T"},
                "eligibilityModule": {"healthyVolunteers": False},
            }
        }
    )

    assert record.fields["healthy_volunteers"] is False


def test_the_draft_from_the_study_is_a_draft_nobody_is_asked_yet(world: World, toca: Study):
    study_site = StudySiteFactory(site=world.site_a2, study=toca)

    version = version_draft_from_study(study_site=study_site, actor=Actor(world.site_lead.user))

    assert version.status == VersionStatus.DRAFT
    assert version.origin == "ClinicalTrials.gov NCT02576665"
    assert version.questions.count() == 26
    assert published_version(study_site.pk) is None
    assert Questionnaire.objects.get(study_site=study_site).versions.count() == 1


def test_a_study_without_criteria_has_nothing_to_draft(world: World):
    study_site = StudySiteFactory(site=world.site_a2, study=StudyFactory())

    with pytest.raises(Exception, match="no criteria"):
        version_draft_from_study(study_site=study_site, actor=Actor(None))
