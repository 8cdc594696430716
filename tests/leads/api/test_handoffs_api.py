"""GET /api/v1/handoffs/: a CTMS reads the handed-off leads of its organization, page after page
by cursor, in FHIR or CSV, with a key of the handoff scope only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from leads.intake.api_keys import api_key_create
from leads.models import ApiKey, Lead, Person, Source, Status
from reporting.handoff import CSV_HEADER
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.api.conftest import Key, get_lead, lead_body, make_key, post_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

URL = "/api/v1/handoffs/"
pytestmark = pytest.mark.django_db


def handoff_key(world: World, organization: Any = None, scopes: Any = None) -> Key:
    organization = organization or world.org_a
    admin = world.admin if organization == world.org_a else world.outsider
    api_key, token = api_key_create(
        organization=organization,
        name="CTMS",
        source=Source.API,
        scopes=scopes or [ApiKey.Scope.HANDOFF],
        actor=Actor(admin.user),
    )
    return Key(api_key, token)


def handed_off(world: World, *, minutes_ago: int, study_site: Any = None, **person: Any) -> Lead:
    lead = new_lead(study_site=study_site or world.study_site_a)
    if person:
        Person.objects.filter(pk=lead.person_id).update(**person)
    Lead.objects.filter(pk=lead.pk).update(
        status=Status.HANDED_OFF,
        handed_off_at=timezone.now() - timedelta(minutes=minutes_ago),
        next_action="",
        next_action_due_at=None,
    )
    return lead


def get(key: Key | None, url: str = URL, **params: Any) -> Any:
    return Client().get(url, params, headers=key.headers() if key else {})


def codes_of(bundle: dict[str, Any]) -> list[str]:
    return [
        e["resource"]["identifier"][0]["value"]
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == "ResearchSubject"
    ]


def next_url(bundle: dict[str, Any]) -> str:
    return str(next(link["url"] for link in bundle["link"] if link["relation"] == "next"))


def test_a_ctms_pages_through_the_handoffs_by_cursor_and_sees_only_new_ones_later(world: World):
    key = handoff_key(world)
    leads = [handed_off(world, minutes_ago=m) for m in (50, 40, 30)]
    new_lead(study_site=world.study_site_a)  # not handed off: never listed

    first = get(key, limit=2)
    assert first.status_code == 200, first.content
    assert first["Content-Type"] == "application/fhir+json"
    bundle = first.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    assert codes_of(bundle) == [str(lead.code) for lead in leads[:2]]
    modes = [e["search"]["mode"] for e in bundle["entry"]]
    assert modes == ["match", "include", "match", "include"]

    second = get(key, next_url(bundle)).json()
    assert codes_of(second) == [str(leads[2].code)]
    third = get(key, next_url(second)).json()
    assert codes_of(third) == []  # nothing new yet; the same cursor asks again later
    assert "entry" not in third

    later = handed_off(world, minutes_ago=5)
    assert codes_of(get(key, next_url(third)).json()) == [str(later.code)]


def test_a_handoff_waits_a_moment_before_it_is_listed(world: World):
    key = handoff_key(world)
    lead = new_lead(study_site=world.study_site_a)
    Lead.objects.filter(pk=lead.pk).update(
        status=Status.HANDED_OFF, handed_off_at=timezone.now(), next_action=""
    )
    assert codes_of(get(key).json()) == []


def test_the_bundle_carries_the_patient_and_the_study(world: World):
    study = world.study_site_a.study
    study.nct_id = "NCT04567890"
    study.save()
    handed_off(world, minutes_ago=10, first_name="Ximena", phone="+13125550111")
    bundle = get(handoff_key(world)).json()
    subject, patient = (e["resource"] for e in bundle["entry"])
    assert subject["status"] == "screening"
    assert subject["study"]["identifier"]["value"] == "NCT04567890"
    assert subject["individual"]["reference"] == bundle["entry"][1]["fullUrl"]
    assert patient["name"][0]["given"] == ["Ximena"]
    assert {"system": "phone", "value": "+13125550111"} in patient["telecom"]


def test_the_csv_has_the_same_facts_and_the_next_link_in_a_header(world: World):
    leads = [handed_off(world, minutes_ago=m, last_name="=HYPERLINK(1)") for m in (20, 10)]
    key = handoff_key(world)
    response = get(key, format="csv", limit=1)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == list(CSV_HEADER)
    assert [r[0] for r in rows[1:]] == [str(leads[0].code)]
    assert rows[1][CSV_HEADER.index("last_name")] == "'=HYPERLINK(1)"  # never a formula
    link = response["Link"]
    assert link.endswith('>; rel="next"')
    query = parse_qs(urlsplit(link[1:].split(">")[0]).query)
    assert query["format"] == ["csv"]
    following = get(key, format="csv", limit=1, cursor=query["cursor"][0])
    rows = list(csv.reader(io.StringIO(following.content.decode())))
    assert [r[0] for r in rows[1:]] == [str(leads[1].code)]


def test_only_the_keys_organization_is_listed(world: World):
    mine = handed_off(world, minutes_ago=10)
    handed_off(world, minutes_ago=10, study_site=world.study_site_b)
    assert codes_of(get(handoff_key(world)).json()) == [str(mine.code)]


def test_an_intake_key_may_not_read_handoffs_and_a_handoff_key_may_not_send_leads(world: World):
    handed_off(world, minutes_ago=10)
    intake = make_key(world)
    refused = get(intake)
    assert refused.status_code == 403
    assert "handoff" in refused.json()["detail"]
    handoff = handoff_key(world)
    sent = post_lead(handoff, lead_body(world))
    assert sent.status_code == 403
    assert "intake" in sent.json()["detail"]
    assert get_lead(handoff, Lead.objects.get().code).status_code == 403
    assert not AuditEvent.objects.filter(action="lead.viewed").exists()


def test_a_key_with_both_scopes_does_both(world: World):
    both = handoff_key(world, scopes=[ApiKey.Scope.INTAKE, ApiKey.Scope.HANDOFF])
    assert post_lead(both, lead_body(world)).status_code == 201
    assert get(both).status_code == 200


def test_no_key_or_a_bad_one_is_a_401(world: World):
    assert get(None).status_code == 401
    response = Client().get(URL, headers={"Authorization": "Bearer tn_nothing_here"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": "bm9uZXxub25l"}, "cursor"),  # "none|none"
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"format": "xml"}, "format"),
        ({"curser": "abc"}, "curser"),  # a typo would start again from the first handoff
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(world: World, params: dict[str, str], field: str):
    response = get(handoff_key(world), **params)
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_each_lead_read_is_audited_as_viewed_through_the_key(world: World):
    leads = [handed_off(world, minutes_ago=m) for m in (20, 10)]
    key = handoff_key(world)
    get(key)
    events = AuditEvent.objects.filter(action="lead.viewed").order_by("object_id")
    assert sorted(e.object_id for e in events) == sorted(str(lead.code) for lead in leads)
    assert all(e.actor_id is None and e.organization_id == world.org_a.pk for e in events)
    assert {e.changes["api_key"] for e in events} == {key.api_key.prefix}
    assert all("Maria" not in str(e.changes) for e in events)


def test_an_erased_person_is_listed_without_their_details(world: World):
    from leads.erasure import person_erase

    lead = handed_off(world, minutes_ago=10, first_name="Canaryname", email="canary@example.com")
    person_erase(
        person=Person.objects.get(pk=lead.person_id), actor=Actor(world.admin.user), reason="REQ-1"
    )
    response = get(handoff_key(world))
    assert response.status_code == 200
    Bundle.model_validate(response.json())
    assert b"Canaryname" not in response.content
    assert b"canary@" not in response.content


def test_the_openapi_documents_the_endpoint_and_its_formats():
    schema = Client().get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/handoffs/"]["get"]
    assert operation["operationId"] == "leads_api_handoff_list"
    assert {"application/fhir+json", "text/csv"} <= set(operation["responses"]["200"]["content"])
    assert {p["name"] for p in operation["parameters"]} == {"cursor", "limit", "format"}
