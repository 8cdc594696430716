"""The CTMS handoff: a handed-off lead as a FHIR R4 Bundle (Patient + ResearchSubject with a
reference to the ResearchStudy by its NCT id) and as a CSV row with the same facts.

Validated with `fhir.resources` (its R4B models, structurally R4 for these resources, as in
prescreen/fhir.py). The ResearchSubject status is never a decision about eligibility: it says
where the lead stands in recruitment, and the study team decides the rest.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

from leads.models import Lead, Status

# Lead status -> ResearchSubject.status (the README has this table).
STATUS_MAP: dict[str, str] = {
    Status.NEW: "potential-candidate",
    Status.CONTACTING: "potential-candidate",
    Status.PRESCREENING: "candidate",
    Status.NEEDS_REVIEW: "candidate",
    Status.RECORDS_PENDING: "candidate",
    Status.RECORDS_READY: "candidate",
    Status.VISIT_SCHEDULED: "candidate",
    Status.HANDED_OFF: "screening",
    Status.CLOSED: "not-registered",
}
NCT_SYSTEM = "https://clinicaltrials.gov"
LEAD_SYSTEM = "urn:trialsnest:lead"
CSV_HEADER = (
    "lead", "status", "research_subject_status", "nct_id", "study", "site", "first_name",
    "last_name", "date_of_birth", "phone", "email", "handed_off_at",
)  # fmt: skip


def handoff_bundle(lead: Lead, *, bundle_type: str = "collection") -> dict[str, Any]:
    """The lead as a validated FHIR Bundle (JSON-ready dict). Expects person, study_site,
    study_site.study and study_site.site loaded."""
    bundle = {"resourceType": "Bundle", "type": bundle_type, "entry": handoff_entries(lead)}
    Bundle.model_validate(bundle)
    return bundle


def handoff_entries(lead: Lead) -> list[dict[str, Any]]:
    person, study = lead.person, lead.study_site.study
    patient_url = f"urn:uuid:{person.code}"
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": LEAD_SYSTEM, "value": str(lead.code)}],
        "name": [{"family": person.last_name or None, "given": [person.first_name]}],
        "telecom": [
            t
            for t in (
                {"system": "phone", "value": person.phone} if person.phone else None,
                {"system": "email", "value": person.email} if person.email else None,
            )
            if t
        ],
    }
    if person.date_of_birth:
        patient["birthDate"] = person.date_of_birth.isoformat()
    patient = {k: v for k, v in patient.items() if v}
    patient["name"] = [{k: v for k, v in patient["name"][0].items() if v}]
    study_ref: dict[str, Any] = {"display": study.brief_title}
    if study.nct_id:
        study_ref["identifier"] = {"system": NCT_SYSTEM, "value": study.nct_id}
    subject = {
        "resourceType": "ResearchSubject",
        "identifier": [{"system": LEAD_SYSTEM, "value": str(lead.code)}],
        "status": STATUS_MAP[lead.status],
        "study": study_ref,
        "individual": {"reference": patient_url},
    }
    if lead.handed_off_at:
        subject["period"] = {"start": lead.handed_off_at.isoformat()}
    return [
        {"fullUrl": patient_url, "resource": patient},
        {"fullUrl": f"urn:uuid:{lead.code}", "resource": subject},
    ]


def handoff_csv_row(lead: Lead) -> list[str]:
    person, study_site = lead.person, lead.study_site
    return [
        str(lead.code),
        lead.status,
        STATUS_MAP[lead.status],
        study_site.study.nct_id or "",
        study_site.study.brief_title,
        study_site.site.name,
        person.first_name,
        person.last_name,
        person.date_of_birth.isoformat() if person.date_of_birth else "",
        person.phone,
        person.email,
        lead.handed_off_at.isoformat() if lead.handed_off_at else "",
    ]
