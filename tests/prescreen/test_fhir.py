"""A version exported as a FHIR R4 Questionnaire validates, and imports back as the same
questions and rules (a new draft for a person to publish)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire

from prescreen.fhir import fhir_to_questions, version_to_fhir
from prescreen.models import QuestionnaireVersion, VersionStatus
from prescreen.selectors import questions_of
from prescreen.services.exchange import version_import_fhir
from tests.conftest import World
from trialsnest.audit.services import Actor

COMPARED = ("kind", "text", "text_es", "help_text", "required", "public", "choices", "unit")


def _shape(version: QuestionnaireVersion) -> list[tuple[Any, ...]]:
    return [
        (
            *(getattr(q, name) for name in COMPARED),
            q.min_value,
            q.max_value,
            sorted((r.effect, r.operator, r.value) for r in q.rules.all()),
        )
        for q in questions_of(version)
    ]


def test_export_validates_and_round_trips_through_import(
    world: World, published: QuestionnaireVersion
):
    exported = version_to_fhir(published, questions_of(published))

    FhirQuestionnaire.model_validate(exported)
    assert exported["status"] == "active"
    assert [i["type"] for i in exported["item"]] == ["decimal", "boolean", "choice"]
    imported = version_import_fhir(
        study_site=world.study_site_a2,
        raw=json.dumps(exported),
        filename="network.json",
        actor=Actor(world.site_lead.user),
    )

    assert imported.status == VersionStatus.DRAFT
    assert imported.origin == "FHIR import network.json"
    assert _shape(imported) == _shape(published)
    again = version_to_fhir(imported, questions_of(imported))
    strip = lambda data: [{k: v for k, v in i.items() if k != "linkId"} for i in data["item"]]  # noqa: E731
    assert [len(i.get("extension", [])) for i in strip(again)] == [
        len(i.get("extension", [])) for i in strip(exported)
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({"resourceType": "Patient"}), "not a FHIR Questionnaire"),
        (
            json.dumps(
                {"resourceType": "Questionnaire", "status": "draft", "item": [{"type": "boolean"}]}
            ),
            "linkId",
        ),
        (json.dumps({"resourceType": "Questionnaire", "status": "draft"}), "no questions"),
        (
            json.dumps(
                {
                    "resourceType": "Questionnaire",
                    "status": "draft",
                    "item": [{"linkId": "1", "type": "attachment", "text": "Upload"}],
                }
            ),
            "not a kind of question",
        ),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(ValidationError, match=message):
        fhir_to_questions(raw)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"linkId": "1", "type": "boolean", "text": "x" * 600},
            "Question 1: Shorten this to 500 characters",
        ),
        (
            {
                "linkId": "1",
                "type": "decimal",
                "text": "Weight?",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/minValue",
                        "valueDecimal": 1e15,
                    }
                ],
            },
            "below a billion",
        ),
        (
            {
                "linkId": "1",
                "type": "boolean",
                "text": "Smoke?",
                "extension": [
                    {
                        "url": "https://trialsnest.org/fhir/StructureDefinition/prescreen-rule",
                        "extension": [
                            {"url": "effect", "valueCode": "knockout"},
                            {"url": "operator", "valueCode": "is"},
                            {"url": "value", "valueString": "perhaps"},
                        ],
                    }
                ],
            },
            "Question 1: Pick yes or no.",
        ),
    ],
)
def test_an_import_that_the_questionnaire_cannot_hold_is_refused_whole(world: World, item, message):
    raw = json.dumps({"resourceType": "Questionnaire", "status": "draft", "item": [item]})

    with pytest.raises(ValidationError, match=message):
        version_import_fhir(
            study_site=world.study_site_a, raw=raw, filename="x.json", actor=Actor(None)
        )
    assert not QuestionnaireVersion.objects.filter(questions__isnull=False).exists()
