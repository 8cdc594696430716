"""A questionnaire version as a FHIR R4 `Questionnaire`, and back, so a network can reuse it.

Validated with the `fhir.resources` package. Its 8.x line ships the R4 family as R4B (4.3.0),
whose Questionnaire has the same structure as R4 (4.0.1); R4 servers read what we write.

Standard elements carry what FHIR has words for (text, type, required, answerOption, the SDC
help-text item, unit, min and max); the rest (rules, the public flag, Spanish texts, a drafted
question's origin) are extensions under EXT.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from pydantic import ValidationError as PydanticError

from prescreen.drafting import DraftQuestion, DraftRule
from prescreen.models import (
    Question,
    QuestionKind,
    QuestionnaireVersion,
    RuleEffect,
    RuleOperator,
    VersionStatus,
)

EXT = "https://trialsnest.org/fhir/StructureDefinition/prescreen-"
SDC = "http://hl7.org/fhir/StructureDefinition/"
ITEM_CONTROL = "http://hl7.org/fhir/questionnaire-item-control"
MAX_BYTES = 2_000_000

TYPE_OF: dict[str, str] = {
    QuestionKind.YES_NO: "boolean",
    QuestionKind.SINGLE: "choice",
    QuestionKind.MULTIPLE: "choice",
    QuestionKind.NUMBER: "decimal",
    QuestionKind.DATE: "date",
    QuestionKind.TEXT: "string",
}
STATUS_OF = {
    VersionStatus.DRAFT: "draft",
    VersionStatus.PUBLISHED: "active",
    VersionStatus.RETIRED: "retired",
}


def _ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": f"{EXT}{name}", **value}


def _item(question: Question) -> dict[str, Any]:
    extension = [_ext("public", valueBoolean=question.public)]
    if question.origin:
        extension.append(_ext("origin", valueString=question.origin))
    if question.text_es:
        extension.append(_ext("text-es", valueString=question.text_es))
    if question.help_text_es:
        extension.append(_ext("help-text-es", valueString=question.help_text_es))
    for rule in question.rules.all():
        parts = [
            {"url": "effect", "valueCode": rule.effect},
            {"url": "operator", "valueCode": rule.operator},
        ]
        if rule.value:
            parts.append({"url": "value", "valueString": rule.value})
        extension.append(_ext("rule", extension=parts))
    if question.kind == QuestionKind.NUMBER:
        if question.unit:
            extension.append(
                {"url": f"{SDC}questionnaire-unit", "valueCoding": {"display": question.unit}}
            )
        for name, value in (("minValue", question.min_value), ("maxValue", question.max_value)):
            if value is not None:
                extension.append({"url": f"{SDC}{name}", "valueDecimal": float(value)})
    item: dict[str, Any] = {
        "linkId": str(question.code),
        "text": question.text,
        "type": TYPE_OF[question.kind],
        "required": question.required,
        "extension": extension,
    }
    if question.kind == QuestionKind.MULTIPLE:
        item["repeats"] = True
    if question.choices:
        spanish = question.choices_es or [""] * len(question.choices)
        item["answerOption"] = [
            {"valueString": choice, **_spanish_option(label)}
            for choice, label in zip(question.choices, spanish, strict=True)
        ]
    if question.help_text:
        item["item"] = [
            {
                "linkId": f"{question.code}-help",
                "type": "display",
                "text": question.help_text,
                "extension": [
                    {
                        "url": f"{SDC}questionnaire-itemControl",
                        "valueCodeableConcept": {
                            "coding": [{"system": ITEM_CONTROL, "code": "help"}]
                        },
                    }
                ],
            }
        ]
    return item


def _spanish_option(label: str) -> dict[str, Any]:
    return {"extension": [_ext("text-es", valueString=label)]} if label else {}


def version_to_fhir(version: QuestionnaireVersion, questions: list[Question]) -> dict[str, Any]:
    """The version as a validated FHIR Questionnaire (JSON-ready dict)."""
    study_site = version.questionnaire.study_site
    study = study_site.study
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "url": f"urn:uuid:{version.code}",
        "version": str(version.number),
        "name": f"Prescreen{version.number}",
        "title": f"Prescreen: {study.brief_title}"[:300],
        "status": STATUS_OF[VersionStatus(version.status)],
        "subjectType": ["Patient"],
        "item": [_item(q) for q in questions],
    }
    if study.nct_id:
        data["identifier"] = [{"system": "https://clinicaltrials.gov", "value": study.nct_id}]
    if version.published_at:
        data["date"] = version.published_at.isoformat()
    resource = FhirQuestionnaire.model_validate(data)
    exported: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    return exported


# Import ---------------------------------------------------------------------------------------


def _extensions(node: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in node.get("extension") or [] if e.get("url") == url]


def _one(node: dict[str, Any], url: str, key: str, default: Any = None) -> Any:
    found = _extensions(node, url)
    return found[0].get(key, default) if found else default


def _kind(item: dict[str, Any]) -> str:
    kind = {
        "boolean": QuestionKind.YES_NO,
        "decimal": QuestionKind.NUMBER,
        "integer": QuestionKind.NUMBER,
        "date": QuestionKind.DATE,
        "string": QuestionKind.TEXT,
        "text": QuestionKind.TEXT,
    }.get(item["type"])
    if item["type"] == "choice":
        kind = QuestionKind.MULTIPLE if item.get("repeats") else QuestionKind.SINGLE
    if kind is None:
        raise ValidationError(
            f"Item {item['linkId']}: type “{item['type']}” is not a kind of question we ask."
        )
    return kind


def _rules(item: dict[str, Any]) -> tuple[DraftRule, ...]:
    rules = []
    for ext in _extensions(item, f"{EXT}rule"):
        parts = {p.get("url"): p for p in ext.get("extension") or []}
        effect = parts.get("effect", {}).get("valueCode", "")
        operator = parts.get("operator", {}).get("valueCode", "")
        if effect not in RuleEffect.values or operator not in RuleOperator.values:
            raise ValidationError(f"Item {item['linkId']}: a rule names an unknown effect.")
        rules.append(DraftRule(effect, operator, parts.get("value", {}).get("valueString", "")))
    return tuple(rules)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _question(item: dict[str, Any]) -> DraftQuestion:
    options = item.get("answerOption") or []
    choices = tuple(
        str(o.get("valueString") or o.get("valueCoding", {}).get("display") or "") for o in options
    )
    choices_es = tuple(str(_one(o, f"{EXT}text-es", "valueString", "")) for o in options)
    helps = [
        child.get("text", "") for child in item.get("item") or [] if child.get("type") == "display"
    ]
    unit = _one(item, f"{SDC}questionnaire-unit", "valueCoding", {}) or {}
    return DraftQuestion(
        kind=_kind(item),
        text=str(item.get("text") or ""),
        origin=str(_one(item, f"{EXT}origin", "valueString", "") or "")[:100],
        help_text=" ".join(helps)[:500],
        choices=choices,
        required=bool(item.get("required", False)),
        public=bool(_one(item, f"{EXT}public", "valueBoolean", False)),
        text_es=str(_one(item, f"{EXT}text-es", "valueString", "") or ""),
        help_text_es=str(_one(item, f"{EXT}help-text-es", "valueString", "") or ""),
        choices_es=choices_es if any(choices_es) else (),
        unit=str(unit.get("display") or unit.get("code") or "")[:40],
        min_value=_decimal(_one(item, f"{SDC}minValue", "valueDecimal")),
        max_value=_decimal(_one(item, f"{SDC}maxValue", "valueDecimal")),
        rules=_rules(item),
    )


def fhir_to_questions(raw: bytes | str) -> list[DraftQuestion]:
    """The questions of a FHIR R4 Questionnaire (JSON), checked by fhir.resources first."""
    if len(raw) > MAX_BYTES:
        raise ValidationError("The file is too large for a questionnaire (2 MB at most).")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The file is not JSON.") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise ValidationError("The file is not a FHIR Questionnaire.")
    try:
        resource = FhirQuestionnaire.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(
            f"Not a valid FHIR R4 Questionnaire: {where}: {first['msg']}"
        ) from None
    checked: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    items = [i for i in checked.get("item") or [] if i.get("type") not in ("display", "group")]
    if not items:
        raise ValidationError("The questionnaire has no questions.")
    return [_question(item) for item in items]
