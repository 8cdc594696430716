"""Importing real ClinicalTrials.gov API v2 files, and refusing broken ones whole."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.factories import StudySiteFactory
from trialsnest.audit.models import AuditEvent
from trialsnest.studies.models import Sponsor, Study

DATA = Path(__file__).resolve().parents[2] / "trialsnest" / "studies" / "data" / "ctgov"
ONE_STUDY = DATA / "NCT02576665.json"
SEARCH_PAGE = DATA / "search_melanoma_recruiting.json"


def _import(*paths: Path) -> str:
    out = StringIO()
    call_command("import_ctgov", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def _refusal(*paths: Path) -> str:
    with pytest.raises(CommandError) as refusal:
        _import(*paths)
    return str(refusal.value)


def _write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# The real files -------------------------------------------------------------------------------


def test_it_imports_a_single_study(db):
    output = _import(ONE_STUDY)

    assert output.strip() == f"{ONE_STUDY}: 1 created, 0 updated"
    study = Study.objects.get()
    assert study.nct_id == "NCT02576665"
    assert study.brief_title.startswith("A Study of Toca 511")
    assert study.sponsor is not None
    assert study.sponsor.name == "Tocagen Inc."
    assert study.registry_status == "TERMINATED"
    assert study.phases == ["PHASE1"]
    assert "Melanoma" in study.conditions
    assert len(study.conditions) == 12
    assert (study.minimum_age, study.maximum_age, study.sex) == ("18 Years", "75 Years", "ALL")
    assert study.eligibility_criteria
    assert study.locations == [
        {
            "facility": "Sarah Cannon Research Institute",
            "city": "Denver",
            "state": "Colorado",
            "zip": "80218",
            "country": "United States",
        },
        {
            "facility": "University of Miami",
            "city": "Miami",
            "state": "Florida",
            "zip": "33136",
            "country": "United States",
        },
        {
            "facility": "MD Anderson Cancer Center",
            "city": "Houston",
            "state": "Texas",
            "zip": "77030",
            "country": "United States",
        },
    ]


def test_it_imports_a_search_page_of_three_studies(db):
    output = _import(SEARCH_PAGE)

    assert output.strip() == f"{SEARCH_PAGE}: 3 created, 0 updated"
    studies = {s.nct_id: s for s in Study.objects.select_related("sponsor")}
    assert set(studies) == {"NCT06970236", "NCT04114136", "NCT04318717"}
    assert all(s.registry_status == "RECRUITING" for s in studies.values())
    mucosal = studies["NCT04318717"]
    assert mucosal.sponsor is not None
    assert mucosal.sponsor.name == "Washington University School of Medicine"
    assert mucosal.conditions == ["Mucosal Melanoma of the Head and Neck"]
    assert mucosal.phases == ["PHASE2"]
    assert mucosal.minimum_age == "16 Years"
    # The search page has no locations module at all: an empty list, not a failure.
    assert all(s.locations == [] for s in studies.values())
    assert studies["NCT06970236"].conditions == ["Ocular Melanoma"]
    assert studies["NCT04114136"].sponsor.name == "Dan Zandberg"


def test_it_imports_the_names_of_the_treatments_studied(db):
    _import(SEARCH_PAGE)

    interventions = dict(Study.objects.values_list("nct_id", "interventions"))
    assert interventions["NCT04318717"] == ["Pembrolizumab", "Hypofractionated radiation therapy"]
    assert interventions["NCT04114136"] == [
        "Nivolumab or Pembrolizumab (dependent upon approved indication)",
        "Metformin",
        "Rosiglitazone",
    ]
    assert interventions["NCT06970236"] == ["Exercise"]


def test_an_import_of_a_study_without_treatments_or_with_odd_ones_keeps_what_it_can(
    db, tmp_path: Path
):
    data = json.loads(SEARCH_PAGE.read_text())
    del data["studies"][0]["protocolSection"]["armsInterventionsModule"]
    data["studies"][1]["protocolSection"]["armsInterventionsModule"]["interventions"] = [
        {"type": "DRUG", "name": "Metformin"},
        {"type": "DRUG"},
        {"type": "DRUG", "name": " Metformin "},
    ]

    _import(_write(tmp_path, "page.json", data))

    interventions = dict(Study.objects.values_list("nct_id", "interventions"))
    assert interventions["NCT06970236"] == []
    assert interventions["NCT04114136"] == ["Metformin"]


def test_an_operators_import_fills_the_treatments_of_a_study_already_there(db, tmp_path: Path):
    data = json.loads(SEARCH_PAGE.read_text())
    older = json.loads(SEARCH_PAGE.read_text())
    for study in older["studies"]:
        study["protocolSection"].pop("armsInterventionsModule", None)
    _import(_write(tmp_path, "older.json", older))
    study_site = StudySiteFactory(study=Study.objects.get(nct_id="NCT04318717"))

    _import(_write(tmp_path, "page.json", data))

    study = Study.objects.get(nct_id="NCT04318717")
    assert study.interventions == ["Pembrolizumab", "Hypofractionated radiation therapy"]
    event = AuditEvent.objects.filter(action="studies.imported").latest("id")
    assert "interventions" in event.changes["changed_fields"]["NCT04318717"]
    # Its StudySites are found by them at once.
    assert Study.objects.filter(
        study_sites__search_vector="hypofractionated", study_sites=study_site
    ).exists()


def test_it_imports_both_files_at_once(db):
    _import(ONE_STUDY, SEARCH_PAGE)

    assert Study.objects.count() == 4
    assert Sponsor.objects.count() == 4


def test_the_command_leaves_an_audit_event_per_file(db):
    _import(ONE_STUDY, SEARCH_PAGE)

    events = AuditEvent.objects.filter(action="studies.imported").order_by("id")
    assert [e.changes["file"] for e in events] == [str(ONE_STUDY), str(SEARCH_PAGE)]
    assert events[0].changes["created"] == ["NCT02576665"]
    assert {(e.actor_id, e.organization_id) for e in events} == {(None, None)}


def test_importing_again_updates_instead_of_duplicating(db):
    _import(ONE_STUDY, SEARCH_PAGE)
    first = dict(Study.objects.values_list("nct_id", "code"))

    output = _import(ONE_STUDY, SEARCH_PAGE)

    assert f"{ONE_STUDY}: 0 created, 1 updated" in output
    assert f"{SEARCH_PAGE}: 0 created, 3 updated" in output
    assert dict(Study.objects.values_list("nct_id", "code")) == first
    assert Sponsor.objects.count() == 4


def test_importing_a_newer_version_updates_the_study(db, tmp_path: Path):
    _import(ONE_STUDY)
    data = json.loads(ONE_STUDY.read_text())
    data["protocolSection"]["statusModule"]["overallStatus"] = "COMPLETED"
    data["protocolSection"]["identificationModule"]["briefTitle"] = "Toca 6, renamed"
    del data["protocolSection"]["contactsLocationsModule"]

    _import(_write(tmp_path, "newer.json", data))

    study = Study.objects.get()
    assert study.registry_status == "COMPLETED"
    assert study.brief_title == "Toca 6, renamed"
    assert study.locations == []


def test_the_operators_update_of_a_study_others_recruit_for_is_audited_field_by_field(
    world, tmp_path: Path
):
    _import(ONE_STUDY)
    study = Study.objects.get(nct_id="NCT02576665")
    StudySiteFactory(site=world.site_a, study=study)
    StudySiteFactory(site=world.site_b, study=study)
    data = json.loads(ONE_STUDY.read_text())
    data["protocolSection"]["identificationModule"]["briefTitle"] = "Toca 6, renamed"
    data["protocolSection"]["descriptionModule"]["briefSummary"] = "A newer summary."

    output = _import(path := _write(tmp_path, "newer.json", data))

    assert f"{path}: 0 created, 1 updated" in output
    assert "NCT02576665: brief_title, brief_summary changed" in output
    study.refresh_from_db()
    assert (study.brief_title, study.brief_summary) == ("Toca 6, renamed", "A newer summary.")
    event = AuditEvent.objects.filter(action="studies.imported").latest("id")
    assert (event.actor_id, event.organization_id) == (None, None)
    assert event.changes["file"] == str(path)
    assert event.changes["updated"] == ["NCT02576665"]
    assert event.changes["changed_fields"] == {"NCT02576665": ["brief_title", "brief_summary"]}


# Broken files ---------------------------------------------------------------------------------


def test_a_truncated_file_is_refused_with_a_one_line_message(db, tmp_path: Path):
    text = ONE_STUDY.read_text()
    path = _write(tmp_path, "truncated.json", text[: len(text) // 2])

    message = _refusal(path)

    assert message.startswith(f"{path}: not valid JSON (line ")
    assert "\n" not in message
    assert not Study.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"results": []}, "not a ClinicalTrials.gov v2 study or search page"),
        ([{"protocolSection": {}}], "not a ClinicalTrials.gov v2 study or search page"),
        ("42", "not a ClinicalTrials.gov v2 study or search page"),
        ({"studies": {"nctId": "NCT04318717"}}, "“studies” should be a list"),
        ({"studies": [{"protocolSection": {}}]}, "studies[0] has no protocolSection"),
        (
            {"protocolSection": {"identificationModule": {"nctId": "12345", "briefTitle": "X"}}},
            "no valid NCT id (got '12345')",
        ),
        (
            {"protocolSection": {"identificationModule": {"nctId": "NCT04318717"}}},
            "NCT04318717 has no title",
        ),
    ],
    ids=[
        "unknown-object",
        "bare-list",
        "number",
        "studies-not-a-list",
        "empty-protocol",
        "bad-nct-id",
        "no-title",
    ],
)
def test_a_wrong_shaped_file_is_refused_with_a_one_line_message(
    db, tmp_path: Path, content: Any, expected: str
):
    path = _write(tmp_path, "wrong.json", content)

    message = _refusal(path)

    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
    assert not Study.objects.exists()


def test_a_field_of_the_wrong_type_is_refused_with_where_it_is(db, tmp_path: Path):
    data = json.loads(SEARCH_PAGE.read_text())
    data["studies"][2]["protocolSection"]["conditionsModule"]["conditions"] = "Melanoma"

    message = _refusal(_write(tmp_path, "page.json", data))

    assert "NCT04318717.conditions should be a list of strings" in message
    # The two good studies before it were not imported either.
    assert not Study.objects.exists()


def test_treatments_of_the_wrong_shape_are_refused_with_where_they_are(db, tmp_path: Path):
    data = json.loads(SEARCH_PAGE.read_text())
    arms = data["studies"][2]["protocolSection"]["armsInterventionsModule"]
    arms["interventions"] = {"name": "Pembrolizumab"}
    as_list = json.loads(SEARCH_PAGE.read_text())
    as_list["studies"][2]["protocolSection"]["armsInterventionsModule"]["interventions"] = [
        {"name": 42}
    ]

    assert "NCT04318717.interventions should be a list" in _refusal(
        _write(tmp_path, "page.json", data)
    )
    assert "NCT04318717.intervention.name should be a string" in _refusal(
        _write(tmp_path, "list.json", as_list)
    )
    assert not Study.objects.exists()


def test_one_bad_file_among_good_ones_imports_nothing(db, tmp_path: Path):
    bad = _write(tmp_path, "bad.json", '{"studies": [')

    message = _refusal(ONE_STUDY, bad, SEARCH_PAGE)

    assert message.startswith(f"{bad}: not valid JSON")
    assert not Study.objects.exists()
    assert not Sponsor.objects.exists()


def test_a_missing_file_is_refused(db, tmp_path: Path):
    message = _refusal(tmp_path / "nowhere.json")

    assert "cannot read the file" in message
    assert "\n" not in message


def test_a_file_that_is_not_text_is_refused(db, tmp_path: Path):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00\x01")

    message = _refusal(path)

    assert "cannot read the file" in message
    assert "\n" not in message


@pytest.mark.django_db
def test_a_nul_character_is_refused_with_a_clear_message(tmp_path):
    import json

    from django.core.management import CommandError, call_command

    from trialsnest.studies.models import Study

    study = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT01234567", "briefTitle": "A\u0000B"}
        }
    }
    path = tmp_path / "nul.json"
    path.write_text(json.dumps(study))
    with pytest.raises(CommandError, match="contains a NUL character"):
        call_command("import_ctgov", str(path))
    assert not Study.objects.filter(nct_id="NCT01234567").exists()
