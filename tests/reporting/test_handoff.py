from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.researchsubject import ResearchSubject

from leads.models import Lead, Person, Status
from reporting.handoff import CSV_HEADER, STATUS_MAP, handoff_bundle, handoff_csv_row
from tests.factories import new_lead

pytestmark = pytest.mark.django_db


def test_the_status_mapping_covers_every_lead_status():
    assert set(STATUS_MAP) == set(Status.values)
    assert ResearchSubject.model_fields["status"] is not None
    assert "eligible" not in STATUS_MAP.values()  # recruitment never decides eligibility


@pytest.mark.parametrize("status", Status.values)
def test_every_bundle_validates_whatever_the_status(world, status):
    lead = new_lead(study_site=world.study_site_a)
    Person.objects.filter(pk=lead.person_id).update(date_of_birth=date(1960, 5, 4))
    done = (
        {"next_action": "", "next_action_due_at": None}
        if status in ("closed", "handed_off")
        else {}
    )
    reason = {"close_reason": "not_interested"} if status == "closed" else {}
    Lead.objects.filter(pk=lead.pk).update(
        status=status, handed_off_at=timezone.now(), **done, **reason
    )
    lead = Lead.objects.select_related("person", "study_site__study", "study_site__site").get(
        pk=lead.pk
    )
    bundle = handoff_bundle(lead)
    parsed = Bundle.model_validate(bundle)
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert kinds == ["Patient", "ResearchSubject"]
    subject = bundle["entry"][1]["resource"]
    assert subject["status"] == STATUS_MAP[status]
    assert subject["individual"]["reference"] == bundle["entry"][0]["fullUrl"]
    assert bundle["entry"][0]["resource"]["birthDate"] == "1960-05-04"


def test_the_study_is_referenced_by_its_nct_id(world):
    study = world.study_site_a.study
    study.nct_id = "NCT01234567"
    study.save()
    lead = Lead.objects.select_related("person", "study_site__study", "study_site__site").get(
        pk=new_lead(study_site=world.study_site_a).pk
    )
    subject = handoff_bundle(lead)["entry"][1]["resource"]
    assert subject["study"]["identifier"] == {
        "system": "https://clinicaltrials.gov",
        "value": "NCT01234567",
    }


def test_the_csv_row_has_the_same_facts_as_the_bundle(world):
    lead = Lead.objects.select_related("person", "study_site__study", "study_site__site").get(
        pk=new_lead(study_site=world.study_site_a).pk
    )
    out = io.StringIO()
    csv.writer(out).writerows([CSV_HEADER, handoff_csv_row(lead)])
    row = dict(zip(*csv.reader(io.StringIO(out.getvalue())), strict=True))
    bundle = handoff_bundle(lead)
    assert row["lead"] == bundle["entry"][1]["resource"]["identifier"][0]["value"]
    assert row["research_subject_status"] == bundle["entry"][1]["resource"]["status"]
    assert row["phone"] == lead.person.phone
