"""Import ClinicalTrials.gov API v2 JSON into the shared study catalog.

Reads a single study (`GET /studies/{nctId}`) or a search page (`{"studies": [...]}`). Real files
often lack fields or whole modules; those become empty values. A file that is not JSON, or not
of either shape, is refused whole with a one-line message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from trialsnest.studies.models import Sponsor, Study

NCT_ID = re.compile(r"^NCT\d{8}$")


class CtgovError(ValueError):
    """A file the importer refuses; the message is one line naming the problem."""


@dataclass
class StudyRecord:
    nct_id: str
    brief_title: str
    sponsor: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # Already in the catalog and left as they were (an organization's upload never edits them).
    kept: list[str] = field(default_factory=list)
    # Per updated study, the fields whose values the new file changed.
    changed: dict[str, list[str]] = field(default_factory=dict)


def _dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CtgovError(f"{where} should be an object")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CtgovError(f"{where} should be a list of strings")
    if any("\x00" in v for v in value):
        raise CtgovError(f"{where} contains a NUL character")
    return [v.strip() for v in value if v.strip()]


def _text(module: dict[str, Any], key: str, where: str) -> str:
    value = module.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CtgovError(f"{where}.{key} should be a string")
    if "\x00" in value:
        raise CtgovError(f"{where}.{key} contains a NUL character")
    return value.strip()


def _flag(module: dict[str, Any], key: str, where: str) -> bool | None:
    value = module.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise CtgovError(f"{where}.{key} should be true or false")


def parse_study(study: Any, where: str = "study") -> StudyRecord:
    protocol = _dict(_dict(study, where).get("protocolSection"), f"{where}.protocolSection")
    if not protocol:
        raise CtgovError(f"{where} has no protocolSection")
    ident = _dict(protocol.get("identificationModule"), f"{where}.identificationModule")
    nct_id = _text(ident, "nctId", f"{where}.identificationModule")
    if not NCT_ID.match(nct_id):
        raise CtgovError(f"{where} has no valid NCT id (got {nct_id!r})")
    title = _text(ident, "briefTitle", where) or _text(ident, "officialTitle", where)
    if not title:
        raise CtgovError(f"{nct_id} has no title")
    status = _dict(protocol.get("statusModule"), f"{nct_id}.statusModule")
    sponsors = _dict(protocol.get("sponsorCollaboratorsModule"), f"{nct_id}.sponsors")
    lead_sponsor = _dict(sponsors.get("leadSponsor"), f"{nct_id}.leadSponsor")
    description = _dict(protocol.get("descriptionModule"), f"{nct_id}.descriptionModule")
    conditions = _dict(protocol.get("conditionsModule"), f"{nct_id}.conditionsModule")
    design = _dict(protocol.get("designModule"), f"{nct_id}.designModule")
    arms = _dict(protocol.get("armsInterventionsModule"), f"{nct_id}.armsInterventionsModule")
    eligibility = _dict(protocol.get("eligibilityModule"), f"{nct_id}.eligibilityModule")
    contacts = _dict(protocol.get("contactsLocationsModule"), f"{nct_id}.contactsLocations")
    locations = contacts.get("locations") or []
    if not isinstance(locations, list):
        raise CtgovError(f"{nct_id}.locations should be a list")
    return StudyRecord(
        nct_id=nct_id,
        brief_title=title[:500],
        sponsor=_text(lead_sponsor, "name", f"{nct_id}.leadSponsor")[:300],
        fields={
            "official_title": _text(ident, "officialTitle", nct_id),
            "acronym": _text(ident, "acronym", nct_id)[:100],
            "registry_status": _text(status, "overallStatus", nct_id)[:40],
            "phases": _strings(design.get("phases"), f"{nct_id}.phases"),
            "conditions": _strings(conditions.get("conditions"), f"{nct_id}.conditions"),
            "interventions": _interventions(arms.get("interventions"), nct_id),
            "keywords": _strings(conditions.get("keywords"), f"{nct_id}.keywords"),
            "brief_summary": _text(description, "briefSummary", nct_id),
            "eligibility_criteria": _text(eligibility, "eligibilityCriteria", nct_id),
            "minimum_age": _text(eligibility, "minimumAge", nct_id)[:40],
            "maximum_age": _text(eligibility, "maximumAge", nct_id)[:40],
            "sex": _text(eligibility, "sex", nct_id)[:10],
            "healthy_volunteers": _flag(eligibility, "healthyVolunteers", nct_id),
            "locations": [_location(loc, nct_id) for loc in locations],
        },
    )


def _interventions(value: Any, nct_id: str) -> list[str]:
    """The names of the treatments studied, once each, in the registry's order."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise CtgovError(f"{nct_id}.interventions should be a list")
    names = [_text(_dict(item, f"{nct_id}.intervention"), "name", f"{nct_id}.intervention")
             for item in value]  # fmt: skip
    return list(dict.fromkeys(name[:300] for name in names if name))


def _location(value: Any, nct_id: str) -> dict[str, str]:
    loc = _dict(value, f"{nct_id}.location")
    keys = ("facility", "city", "state", "zip", "country")
    return {k: _text(loc, k, f"{nct_id}.location") for k in keys}


def parse_document(data: Any) -> list[StudyRecord]:
    if isinstance(data, dict) and "protocolSection" in data:
        return [parse_study(data)]
    if isinstance(data, dict) and "studies" in data:
        studies = data["studies"]
        if not isinstance(studies, list):
            raise CtgovError("“studies” should be a list")
        return [parse_study(s, f"studies[{i}]") for i, s in enumerate(studies)]
    raise CtgovError(
        "not a ClinicalTrials.gov v2 study or search page (no protocolSection or studies)"
    )


def read_file(path: Path) -> list[StudyRecord]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CtgovError(f"cannot read the file: {exc}") from exc
    return read_text(text)


def read_text(text: str) -> list[StudyRecord]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CtgovError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    return parse_document(data)


@transaction.atomic
def import_records(records: list[StudyRecord], *, update_existing: bool) -> ImportResult:
    """Insert by NCT id; a study already in the catalog is updated from the record only when
    `update_existing` (an operator's import), else kept untouched. Never duplicates."""
    result = ImportResult()
    for record in records:
        study = Study.objects.select_for_update().filter(nct_id=record.nct_id).first()
        if study is not None and not update_existing:
            result.kept.append(record.nct_id)
            continue
        sponsor = None
        if record.sponsor:
            sponsor, _ = Sponsor.objects.get_or_create(name=record.sponsor)
        values = {"brief_title": record.brief_title, "sponsor": sponsor, **record.fields}
        if study is None:
            Study.objects.create(nct_id=record.nct_id, **values)
            result.created.append(record.nct_id)
            continue
        changed = [name for name, value in values.items() if getattr(study, name) != value]
        for name in changed:
            setattr(study, name, values[name])
        study.save()
        result.updated.append(record.nct_id)
        result.changed[record.nct_id] = changed
    return result
