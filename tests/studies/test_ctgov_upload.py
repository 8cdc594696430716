"""Uploading ClinicalTrials.gov files on the Studies tab: all of a good file, none of a bad one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import World, signed_in
from trialsnest.audit.models import AuditEvent
from trialsnest.studies.models import Study

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
    assert "Imported melanoma.json: 3 new, 0 updated" in page


def test_a_single_study_imports_and_a_second_upload_updates_it(admin: Client):
    _upload(admin, "one.json", ONE_STUDY.read_bytes())
    study = Study.objects.get(nct_id="NCT02576665")
    study.brief_title = "Edited by hand"
    study.save()

    response = _upload(admin, "one.json", ONE_STUDY.read_bytes())

    assert response.status_code == 302
    study.refresh_from_db()
    assert study.brief_title.startswith("A Study of Toca 511")
    assert Study.objects.filter(nct_id="NCT02576665").count() == 1


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
