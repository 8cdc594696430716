"""Uploading ClinicalTrials.gov files on the Studies tab: all of a good file, none of a bad one,
and never a change to a catalog study that is already there (other organizations use it)."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from leads.public.catalog import forget_catalog
from tests.conftest import World, signed_in
from tests.factories import StudySiteFactory
from trialsnest.audit.models import AuditEvent
from trialsnest.studies.models import Sponsor, Study, StudySite

DATA = Path(__file__).resolve().parents[2] / "trialsnest" / "studies" / "data" / "ctgov"
ONE_STUDY = DATA / "NCT02576665.json"
SEARCH_PAGE = DATA / "search_melanoma_recruiting.json"


@pytest.fixture
def admin(world: World) -> Client:
    return signed_in(world.admin.user)


def _upload(client: Client, name: str, content: bytes):
    return client.post(
        "/settings/studies/import/", {"file": SimpleUploadedFile(name, content, "application/json")}
    )


def _error(response) -> str:
    errors = response.context["form"].errors["file"]
    assert len(errors) == 1
    return str(errors[0])


def test_the_studies_tab_offers_the_upload(admin: Client):
    page = admin.get("/settings/studies/").content.decode()

    assert 'action="/settings/studies/import/"' in page
    assert 'enctype="multipart/form-data"' in page


def test_an_admin_imports_a_search_page_and_it_is_audited(world: World, admin: Client):
    before = Study.objects.count()

    response = _upload(admin, "melanoma.json", SEARCH_PAGE.read_bytes())

    assert response.status_code == 302
    assert response["Location"] == "/settings/studies/"
    ids = [
        s["protocolSection"]["identificationModule"]["nctId"]
        for s in json.loads(SEARCH_PAGE.read_text())["studies"]
    ]
    assert Study.objects.count() == before + 3
    assert set(Study.objects.filter(nct_id__in=ids).values_list("nct_id", flat=True)) == set(ids)
    event = AuditEvent.objects.get(action="studies.imported")
    assert event.actor == world.admin.user
    assert event.organization == world.org_a
    assert sorted(event.changes["created"]) == sorted(ids)
    assert event.changes["file"] == "melanoma.json"
    page = admin.get("/settings/studies/").content.decode()
    assert "Imported melanoma.json: 3 new (" in page


def test_a_single_study_imports_and_a_second_upload_leaves_it_as_it_is(admin: Client):
    _upload(admin, "one.json", ONE_STUDY.read_bytes())
    study = Study.objects.get(nct_id="NCT02576665")

    response = _upload(admin, "one.json", ONE_STUDY.read_bytes())

    assert response.status_code == 302
    assert Study.objects.filter(nct_id="NCT02576665").count() == 1
    assert Study.objects.get(nct_id="NCT02576665").updated_at == study.updated_at


def _modified(study: dict[str, Any]) -> bytes:
    protocol = study["protocolSection"]
    protocol["identificationModule"]["briefTitle"] = "Free cash for everyone"
    protocol["descriptionModule"]["briefSummary"] = "Call 555-0100 now."
    protocol["eligibilityModule"]["eligibilityCriteria"] = "Anyone."
    protocol["sponsorCollaboratorsModule"]["leadSponsor"]["name"] = "Someone Else Inc."
    return json.dumps(study).encode()


def _without_csrf(page: str) -> str:
    """The page's main content, without the token that differs on every render."""
    main = page[page.index('<main id="main">') : page.index("</main>")]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def test_another_organizations_admin_cannot_rewrite_a_study_org_a_recruits_for(world: World):
    visitor = Client()
    call_command("import_ctgov", str(ONE_STUDY), stdout=StringIO())
    study = Study.objects.get(nct_id="NCT02576665")
    StudySiteFactory(site=world.site_a, study=study)
    public_before = _without_csrf(visitor.get(f"/studies/{study.code}/").content.decode())
    staff = signed_in(world.admin.user)
    staff_before = _without_csrf(staff.get("/settings/studies/").content.decode())
    before = Study.objects.values().get(pk=study.pk)
    sponsors = Sponsor.objects.count()
    org_b = signed_in(world.outsider.user)

    response = _upload(org_b, "mine.json", _modified(json.loads(ONE_STUDY.read_text())))

    assert response.status_code == 302
    assert Study.objects.values().get(pk=study.pk) == before
    assert Sponsor.objects.count() == sponsors
    forget_catalog()
    public_after = _without_csrf(visitor.get(f"/studies/{study.code}/").content.decode())
    assert public_after == public_before
    assert "Free cash" not in public_after
    assert "A Study of Toca 511" in public_after
    assert _without_csrf(staff.get("/settings/studies/").content.decode()) == staff_before
    message = org_b.get("/settings/studies/").content.decode()
    assert "mine.json: NCT02576665 is already in the shared catalog and was left unchanged" in (
        message
    )
    assert "You can still add it to your sites" in message
    event = AuditEvent.objects.get(action="studies.imported", organization=world.org_b)
    assert event.changes["kept"] == ["NCT02576665"]
    assert event.changes["created"] == event.changes["updated"] == []


def test_an_admin_whose_file_holds_old_and_new_studies_gets_only_the_new_ones(
    world: World, admin: Client
):
    page = json.loads(SEARCH_PAGE.read_text())
    call_command("import_ctgov", str(SEARCH_PAGE), stdout=StringIO())
    first = page["studies"][0]["protocolSection"]["identificationModule"]["nctId"]
    title = Study.objects.get(nct_id=first).brief_title
    page["studies"][0]["protocolSection"]["identificationModule"]["briefTitle"] = "Renamed"
    page["studies"].append(json.loads(ONE_STUDY.read_text()))

    _upload(admin, "mixed.json", json.dumps(page).encode())

    assert Study.objects.get(nct_id=first).brief_title == title
    assert Study.objects.filter(nct_id="NCT02576665").exists()
    shown = admin.get("/settings/studies/").content.decode()
    assert "Imported mixed.json: 1 new (NCT02576665)" in shown
    assert "are already in the shared catalog and were left unchanged" in shown


def test_the_study_already_in_the_catalog_can_still_be_added_to_a_site(world: World, admin: Client):
    call_command("import_ctgov", str(ONE_STUDY), stdout=StringIO())
    _upload(admin, "one.json", ONE_STUDY.read_bytes())
    study = Study.objects.get(nct_id="NCT02576665")

    response = admin.post(
        "/settings/studies/new/",
        {
            "site": world.site_a.pk,
            "study": study.pk,
            "recruitment_status": "not_yet_recruiting",
            "lay_summary": "Our own words about it.",
            "rank": 100,
        },
    )

    assert response.status_code == 302
    study_site = StudySite.objects.get(site=world.site_a, study=study)
    assert study_site.lay_summary == "Our own words about it."


def test_a_truncated_file_imports_nothing_and_says_why_in_one_line(admin: Client):
    before = Study.objects.count()
    content = SEARCH_PAGE.read_bytes()

    response = _upload(admin, "cut.json", content[: len(content) // 2])

    assert response.status_code == 200
    message = _error(response)
    assert message.startswith("cut.json: not valid JSON (line ")
    assert "\n" not in message
    assert message in response.content.decode()
    assert Study.objects.count() == before
    assert not AuditEvent.objects.filter(action="studies.imported").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (json.dumps({"results": []}), "not a ClinicalTrials.gov v2 study or search page"),
        (json.dumps([1, 2, 3]), "not a ClinicalTrials.gov v2 study or search page"),
        (json.dumps({"studies": {"a": 1}}), "“studies” should be a list"),
        (json.dumps({"studies": []}), "the search page holds no studies"),
        (
            json.dumps({"protocolSection": {"identificationModule": {"nctId": "123"}}}),
            "no valid NCT id",
        ),
    ],
)
def test_a_file_of_the_wrong_shape_imports_nothing(admin: Client, content, problem):
    before = Study.objects.count()

    response = _upload(admin, "odd.json", content.encode())

    assert problem in _error(response)
    assert Study.objects.count() == before


def test_a_search_page_with_one_bad_study_imports_none_of_it(admin: Client):
    page = json.loads(SEARCH_PAGE.read_text())
    page["studies"][2]["protocolSection"]["conditionsModule"] = {"conditions": "Melanoma"}
    before = Study.objects.count()

    response = _upload(admin, "mixed.json", json.dumps(page).encode())

    assert "conditions should be a list of strings" in _error(response)
    assert Study.objects.count() == before


def test_binary_and_empty_files_are_refused(admin: Client):
    assert "not UTF-8 text" in _error(_upload(admin, "photo.json", b"\xff\xd8\xff\xe0 JFIF"))
    assert "empty" in _error(_upload(admin, "empty.json", b""))


def test_a_value_the_database_cannot_store_is_a_message_and_imports_nothing(admin: Client):
    page = json.loads(SEARCH_PAGE.read_text())
    page["studies"][1]["protocolSection"]["identificationModule"]["briefTitle"] = "Nul \u0000 here"
    before = Study.objects.count()

    response = _upload(admin, "nul.json", json.dumps(page).encode())

    assert response.status_code == 200
    assert _error(response) == "nul.json: studies[1].briefTitle contains a NUL character"
    assert Study.objects.count() == before
