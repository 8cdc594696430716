"""The prescreen screens: the builder, and conducting from the lead page with and without htmx.
Nobody outside the lead's StudySites reaches anything (404)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire

from leads.models import Status
from prescreen.models import PrescreenResponse, QuestionnaireVersion, ResponseStatus, VersionStatus
from prescreen.presenters import FINAL_DECISION
from prescreen.services.questionnaires import version_draft
from tests.conftest import World, signed_in
from tests.factories import StudySiteFactory, new_lead
from tests.leads.conftest import fresh
from tests.prescreen.conftest import build_questionnaire, question
from tests.prescreen.objects import org_a_submitted_response
from trialsnest.audit.services import Actor
from trialsnest.studies.models import Study

HTMX = {"HX-Request": "true"}
ONE_STUDY = Path(__file__).resolve().parents[2] / "trialsnest/studies/data/ctgov/NCT02576665.json"


def _field(version: QuestionnaireVersion, text: str) -> str:
    return f"q_{question(version, text).code}"


def _conduct(lead) -> str:
    return reverse("prescreen_conduct", kwargs={"code": lead.code})


# Conducting -------------------------------------------------------------------------------------


def test_a_coordinator_prescreens_a_lead_without_javascript(
    world: World, published: QuestionnaireVersion
):
    lead = new_lead(study_site=world.study_site_a)
    client = signed_in(world.coordinator.user)
    age, treated = (
        _field(published, "How old are you?"),
        _field(published, "Have you been treated for melanoma?"),
    )

    page = client.get(_conduct(lead)).content.decode()
    assert "How old are you?" in page
    assert FINAL_DECISION in page

    saved = client.post(_conduct(lead), {age: "40", "step": "save"})
    assert saved.status_code == 302
    assert 'value="40"' in client.get(_conduct(lead)).content.decode()

    refused = client.post(_conduct(lead), {age: "40", "step": "submit"})
    assert refused.status_code == 422
    assert "This field is required" in refused.content.decode()

    client.post(_conduct(lead), {age: "40", treated: "no", "step": "submit"})
    page = client.get(_conduct(lead)).content.decode()
    assert "Computed result: Needs review" in page
    assert "Have you been treated for melanoma? — answer is “no” → needs review" in page
    assert FINAL_DECISION in page

    response = PrescreenResponse.objects.get(lead=lead)
    url = reverse("prescreen_confirm", kwargs={"code": response.code})
    assert client.post(url, {"outcome": "likely_fit"}).status_code == 422
    done = client.post(url, {"outcome": "likely_fit", "reason": "PI reviewed the treatment"})

    assert done["Location"] == reverse("lead_detail", kwargs={"code": lead.code})
    assert fresh(lead).status == Status.RECORDS_PENDING
    lead_page = client.get(done["Location"]).content.decode()
    assert "Recorded: Likely fit (computed needs review)" in lead_page
    assert FINAL_DECISION in lead_page


def test_with_htmx_the_form_is_swapped_in_place_and_confirming_redirects(
    world: World, published: QuestionnaireVersion
):
    lead = new_lead(study_site=world.study_site_a)
    client = signed_in(world.coordinator.user)
    answers = {
        _field(published, "How old are you?"): "17",
        _field(published, "Have you been treated for melanoma?"): "yes",
        "step": "submit",
    }

    fragment = client.post(_conduct(lead), answers, headers=HTMX)

    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="prescreen-form"')
    assert "Computed result: Not a fit" in body
    assert FINAL_DECISION in body
    response = PrescreenResponse.objects.get(lead=lead)
    confirmed = client.post(
        reverse("prescreen_confirm", kwargs={"code": response.code}),
        {"outcome": "not_a_fit"},
        headers=HTMX,
    )
    assert confirmed["HX-Redirect"] == reverse("lead_detail", kwargs={"code": lead.code})
    assert fresh(lead).status == Status.CLOSED


def test_htmx_errors_come_back_as_the_form_with_its_messages(
    world: World, published: QuestionnaireVersion
):
    lead = new_lead(study_site=world.study_site_a)

    fragment = signed_in(world.coordinator.user).post(
        _conduct(lead), {_field(published, "How old are you?"): "400", "step": "save"}, headers=HTMX
    )

    assert fragment.status_code == 200
    assert "less than or equal to 120" in fragment.content.decode()
    assert not PrescreenResponse.objects.filter(lead=lead).exists()


def test_the_lead_page_links_to_the_prescreen(world: World, published: QuestionnaireVersion):
    lead = new_lead(study_site=world.study_site_a)

    page = signed_in(world.coordinator.user).get(reverse("lead_detail", kwargs={"code": lead.code}))

    assert "Not prescreened yet." in page.content.decode()
    assert _conduct(lead) in page.content.decode()


def test_without_a_published_questionnaire_the_screen_says_so(world: World):
    lead = new_lead(study_site=world.study_site_a)

    page = signed_in(world.coordinator.user).get(_conduct(lead)).content.decode()

    assert "no published prescreen yet" in page


# Who may see what ------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_a_restricted_coordinator_gets_a_404_outside_their_study_sites(world: World, htmx: bool):
    build_questionnaire(world.study_site_a2, Actor(world.site_lead.user))
    lead = new_lead(study_site=world.study_site_a2)
    client = signed_in(world.coordinator.user)
    headers = HTMX if htmx else {}

    assert client.get(_conduct(lead), headers=headers).status_code == 404
    assert client.post(_conduct(lead), {"step": "submit"}, headers=headers).status_code == 404
    assert not PrescreenResponse.objects.filter(lead=lead).exists()
    # The site lead of the organization sees it.
    assert signed_in(world.site_lead.user).get(_conduct(lead)).status_code == 200


@pytest.mark.parametrize("persona", ["outsider", "sponsor_viewer", "coordinator"])
def test_a_response_outside_ones_reach_cannot_be_confirmed(world: World, persona: str):
    build_questionnaire(world.study_site_a2, Actor(world.site_lead.user))
    lead = new_lead(study_site=world.study_site_a2)
    client = signed_in(world.site_lead.user)
    version = QuestionnaireVersion.objects.get(questionnaire__study_site=world.study_site_a2)
    answers = {
        _field(version, "How old are you?"): "40",
        _field(version, "Have you been treated for melanoma?"): "yes",
        "step": "submit",
    }
    client.post(_conduct(lead), answers)
    response = PrescreenResponse.objects.get(lead=lead)
    user = getattr(world, persona)
    other = signed_in(getattr(user, "user", user))

    for headers in ({}, HTMX):
        url = reverse("prescreen_confirm", kwargs={"code": response.code})
        assert other.post(url, {"outcome": "likely_fit"}, headers=headers).status_code == 404
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED


@pytest.mark.parametrize("persona", ["outsider", "sponsor_viewer"])
def test_outsiders_and_sponsors_get_a_404_on_every_fragment(world: World, persona: str):
    kwargs = org_a_submitted_response(world)
    lead = PrescreenResponse.objects.get(code=kwargs["code"]).lead
    user = getattr(world, persona)
    client = signed_in(getattr(user, "user", user))

    assert client.get(_conduct(lead), headers=HTMX).status_code == 404
    assert (
        client.get(
            reverse("prescreen_builder", kwargs={"code": world.study_site_a.code}), headers=HTMX
        ).status_code
        == 404
    )


# Building -----------------------------------------------------------------------------------------


def test_a_site_lead_drafts_from_the_study_edits_and_publishes(world: World):
    call_command("import_ctgov", str(ONE_STUDY), stdout=StringIO())
    study_site = StudySiteFactory(site=world.site_a2, study=Study.objects.get(nct_id="NCT02576665"))
    client = signed_in(world.site_lead.user)
    builder = reverse("prescreen_builder", kwargs={"code": study_site.code})

    client.post(reverse("prescreen_from_study", kwargs={"code": study_site.code}))
    version = QuestionnaireVersion.objects.get(questionnaire__study_site=study_site)
    page = client.get(builder).content.decode()
    assert "Patient has given written informed consent." in page
    assert "Draft" in page

    new = client.post(
        reverse("prescreen_question_new", kwargs={"code": version.code}),
        {"kind": "single", "text": "Which clinic?", "choices": "North\nSouth", "required": "on"},
    )
    added = version.questions.get(text="Which clinic?")
    assert new["Location"] == reverse("prescreen_question", kwargs={"code": added.code})
    assert added.choices == ["North", "South"]
    rule = client.post(
        reverse("prescreen_rule_new", kwargs={"code": added.code}),
        {"operator": "is", "value": "South", "effect": "knockout"},
    )
    assert rule.status_code == 302
    bad = client.post(
        reverse("prescreen_rule_new", kwargs={"code": added.code}),
        {"operator": "is", "value": "East", "effect": "knockout"},
    )
    assert bad.status_code == 422
    assert "Pick one of the question&#x27;s options." in bad.content.decode()

    client.post(reverse("prescreen_publish", kwargs={"code": version.code}))
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    frozen = client.post(
        reverse("prescreen_question", kwargs={"code": added.code}), {"kind": "yes_no", "text": "x"}
    )
    assert frozen.status_code == 302
    added.refresh_from_db()
    assert added.text == "Which clinic?"

    exported = client.get(reverse("prescreen_export", kwargs={"code": version.code}))
    FhirQuestionnaire.model_validate(json.loads(exported.content))
    upload = SimpleUploadedFile("q.json", exported.content, content_type="application/json")
    client.post(
        reverse("prescreen_import", kwargs={"code": world.study_site_a.code}), {"file": upload}
    )
    imported = QuestionnaireVersion.objects.get(questionnaire__study_site=world.study_site_a)
    assert imported.questions.count() == version.questions.count()


def test_an_imported_file_that_is_not_fhir_is_refused_with_a_message(world: World):
    client = signed_in(world.site_lead.user)
    upload = SimpleUploadedFile("q.json", b'{"resourceType": "Patient"}')

    response = client.post(
        reverse("prescreen_import", kwargs={"code": world.study_site_a.code}),
        {"file": upload},
        follow=True,
    )

    assert "The file is not a FHIR Questionnaire." in response.content.decode()
    assert not QuestionnaireVersion.objects.exists()


def test_a_coordinator_may_not_open_the_builder(world: World):
    version_draft(study_site=world.study_site_a, actor=Actor(None))
    url = reverse("prescreen_builder", kwargs={"code": world.study_site_a.code})

    assert signed_in(world.coordinator.user).get(url).status_code == 403


def test_the_study_team_sees_the_recorded_answers_of_a_lead_needing_review(
    world: World, published: QuestionnaireVersion
):
    lead = new_lead(study_site=world.study_site_a)
    client = signed_in(world.coordinator.user)
    client.post(
        _conduct(lead),
        {
            _field(published, "How old are you?"): "40",
            _field(published, "Have you been treated for melanoma?"): "no",
            "step": "submit",
        },
    )
    response = PrescreenResponse.objects.get(lead=lead)
    client.post(
        reverse("prescreen_confirm", kwargs={"code": response.code}), {"outcome": "needs_review"}
    )

    page = signed_in(world.site_lead.user).get(_conduct(lead)).content.decode()

    assert fresh(lead).status == Status.NEEDS_REVIEW
    assert "Recorded prescreens" in page
    assert "<dt>How old are you?</dt><dd>40</dd>" in page
    assert "<dt>Have you been treated for melanoma?</dt><dd>no</dd>" in page
    assert FINAL_DECISION in page
    assert "Record the study team's review" in page
    lead_page = client.get(reverse("lead_detail", kwargs={"code": lead.code})).content.decode()
    assert "record the study team's decision" in lead_page

    url = reverse("prescreen_review", kwargs={"code": response.code})
    assert client.post(url, {"outcome": "likely_fit"}).status_code == 422
    done = client.post(url, {"outcome": "likely_fit", "note": "Dr Chen: fine"})

    assert done["Location"] == reverse("lead_detail", kwargs={"code": lead.code})
    assert fresh(lead).status == Status.RECORDS_PENDING
    panel = client.get(done["Location"]).content.decode()
    assert "study-team review: likely fit" in panel


def test_confirming_a_second_time_says_why_nothing_happened(world: World):
    kwargs = org_a_submitted_response(world)
    url = reverse("prescreen_confirm", kwargs=kwargs)
    client = signed_in(world.coordinator.user)
    client.post(url, {"outcome": "likely_fit"})

    again = client.post(url, {"outcome": "not_a_fit", "reason": "Changed my mind"})

    assert again.status_code == 422
    assert "Submit the answers before confirming the result." in again.content.decode()
    assert PrescreenResponse.objects.get(code=kwargs["code"]).outcome == "likely_fit"


def test_a_site_lead_restricted_to_one_site_builds_only_its_prescreens(world: World):
    world.site_lead.restricted_sites.set([world.site_a])
    client = signed_in(world.site_lead.user)
    theirs = reverse("prescreen_builder", kwargs={"code": world.study_site_a.code})
    other = reverse("prescreen_builder", kwargs={"code": world.study_site_a2.code})

    assert client.get(theirs).status_code == 200
    assert client.get(other).status_code == 404
    assert (
        client.post(
            reverse("prescreen_draft", kwargs={"code": world.study_site_a2.code})
        ).status_code
        == 404
    )
    assert not QuestionnaireVersion.objects.filter(
        questionnaire__study_site=world.study_site_a2
    ).exists()
