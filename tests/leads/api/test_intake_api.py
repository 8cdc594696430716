"""POST /api/v1/leads and GET /api/v1/leads/{code}: keys, validation, idempotency, limits,
partner scoping and what a partner may see."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, TestCase

from leads.intake.api_keys import api_key_revoke
from leads.models import (
    Activity,
    ActivityKind,
    IdempotencyRecord,
    Lead,
    Person,
    Source,
    Status,
    Submission,
)
from leads.services import lead_add_note, lead_change_status
from tests.conftest import World, signed_in
from tests.factories import OrganizationFactory, SiteFactory, StudySiteFactory, new_lead
from tests.leads.api.conftest import LEADS_URL, Key, get_lead, lead_body, make_key, post_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

MISSING = object()


def _fields(response: Any) -> dict[str, str]:
    """{field: message} of a 422, after checking the shape every 422 has."""
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert all(set(error) == {"field", "message"} for error in body["errors"])
    return {error["field"]: error["message"] for error in body["errors"]}


# Creating a lead ----------------------------------------------------------------------------


def test_a_partner_posts_a_lead_and_gets_its_code_and_status(world: World, key: Key):
    response = post_lead(key, lead_body(world))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"code", "status", "received_at", "status_changed_at"}
    assert body["status"] == "received"
    assert response["Location"] == f"{LEADS_URL}/{body['code']}"


def test_the_lead_gets_the_keys_organization_source_partner_and_the_persons_details(
    world: World, key: Key
):
    code = post_lead(key, lead_body(world)).json()["code"]

    lead = Lead.objects.select_related("person").get(code=code)
    assert lead.organization == world.org_a
    assert lead.study_site == world.study_site_a
    assert lead.source == Source.REFERRAL_PARTNER
    assert lead.referral_partner == "Acme Referrals"
    assert lead.campaign == "spring-radio"
    assert lead.api_key == key.api_key
    assert lead.owner == world.coordinator  # the assignment rule ran
    person = lead.person
    assert (person.first_name, person.last_name) == ("Maria", "Lopez")
    assert person.phone == "+13125550142"
    assert person.email == "maria.lopez@example.com"
    assert str(person.date_of_birth) == "1970-03-14"
    assert (person.postal_code, person.preferred_time) == ("60601", "weekday evenings")
    assert person.preferred_language == "es"
    assert (person.consent_phone, person.consent_sms, person.consent_email) == (True, True, False)
    assert person.consent_text_version == "2025-01"
    assert AuditEvent.objects.filter(action="lead.created", object_id=code, actor=None).exists()


def test_every_accepted_request_is_kept_as_a_submission_marked_processed_with_its_lead(
    world: World, key: Key
):
    code = post_lead(key, lead_body(world)).json()["code"]

    submission = Submission.objects.get()
    assert submission.channel == Submission.Channel.API
    assert submission.study_site == world.study_site_a
    assert submission.organization == world.org_a
    assert submission.processed_at is not None
    assert submission.lead == Lead.objects.get(code=code)
    assert submission.payload["external_reference"] == "ACME-1001"
    assert submission.payload["api_key"] == str(key.api_key.code)
    assert submission.error == ""


def test_a_lead_with_only_an_email_address_is_accepted(world: World, key: Key):
    response = post_lead(key, lead_body(world, phone="", consent={}, consent_text_version=""))

    assert response.status_code == 201, response.content
    assert Lead.objects.get().person.phone == ""


def test_the_same_person_sent_again_by_the_same_key_is_repeat_interest_in_their_lead(
    world: World, key: Key
):
    first = post_lead(key, lead_body(world)).json()

    again = post_lead(key, lead_body(world, external_reference="ACME-1002"))

    assert again.status_code == 200
    assert again.json()["code"] == first["code"]
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert lead.activities.filter(kind=ActivityKind.REPEAT_INTEREST).count() == 1
    assert list(Submission.objects.values_list("lead", flat=True)) == [lead.pk, lead.pk]


def test_a_person_already_in_the_pipeline_from_elsewhere_is_received_without_showing_that_lead(
    world: World, key: Key
):
    web_lead = new_lead(
        study_site=world.study_site_a,
        person__first_name="Maria",
        person__last_name="Lopez",
        person__phone="+13125550142",
        person__email="maria.lopez@example.com",
    )

    response = post_lead(key, lead_body(world))

    assert response.status_code == 202
    assert set(response.json()) == {"status", "received_at"}
    assert str(web_lead.code) not in response.content.decode()
    assert Lead.objects.count() == 1
    assert web_lead.activities.filter(kind=ActivityKind.REPEAT_INTEREST).exists()
    assert Submission.objects.get().lead == web_lead


def test_a_submission_that_cannot_be_processed_is_kept_with_its_error_and_still_accepted(
    world: World,
):
    # An organization where nobody can own leads: intake refuses, the submission stays.
    lonely_org = OrganizationFactory()
    lonely_study_site = StudySiteFactory(site=SiteFactory(organization=lonely_org))
    key = make_key(world, organization=lonely_org)

    response = post_lead(key, lead_body(world, study_site=str(lonely_study_site.code)))

    assert response.status_code == 202
    assert Lead.objects.count() == 0
    submission = Submission.objects.get()
    assert submission.processed_at is None
    assert submission.lead is None
    assert "Nobody in the organization can own leads" in submission.error
    assert submission.payload["first_name"] == "Maria"


def test_a_kept_api_submission_becomes_a_lead_when_the_retry_task_runs_again(world: World):
    from leads.tasks import retry_submissions
    from tests.factories import MembershipFactory
    from trialsnest.tenancy.models import Role

    lonely_org = OrganizationFactory()
    lonely_study_site = StudySiteFactory(site=SiteFactory(organization=lonely_org))
    key = make_key(world, organization=lonely_org)
    post_lead(key, lead_body(world, study_site=str(lonely_study_site.code)))
    assert Lead.objects.count() == 0

    coordinator = MembershipFactory(organization=lonely_org, role=Role.COORDINATOR)
    with TestCase.captureOnCommitCallbacks(execute=True):  # queued work runs after commit
        assert retry_submissions() == 1

    submission = Submission.objects.get()
    assert submission.processed_at is not None
    assert submission.lead is not None
    assert submission.lead.owner == coordinator
    assert submission.lead.person.first_name == "Maria"
    assert retry_submissions() == 0


def test_an_unexpected_failure_while_processing_keeps_the_submission(
    world: World, key: Key, monkeypatch
):
    def broken_intake(**kwargs: Any) -> Any:
        Person.objects.create(organization=world.org_a, first_name="half-done")
        raise RuntimeError("the database hiccuped")

    monkeypatch.setattr("leads.intake.submissions.intake", broken_intake)

    response = post_lead(key, lead_body(world), idempotency_key="k-1")

    assert response.status_code == 202
    submission = Submission.objects.get()
    assert submission.error == "RuntimeError: the database hiccuped"
    assert submission.processed_at is None
    # What processing wrote before it failed is rolled back; the submission is not.
    assert not Person.objects.filter(first_name="half-done").exists()
    assert post_lead(key, lead_body(world), idempotency_key="k-1").status_code == 202
    assert Submission.objects.count() == 1


# Validation ---------------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, overrides, field, part of the message)
    ("study site missing", {"study_site": MISSING}, "study_site", "required"),
    ("study site not a uuid", {"study_site": "site-1"}, "study_site", "UUID"),
    ("first name missing", {"first_name": MISSING}, "first_name", "required"),
    ("first name blank", {"first_name": "   "}, "first_name", "at least 1"),
    ("first name too long", {"first_name": "x" * 101}, "first_name", "at most 100"),
    ("first name with NUL", {"first_name": "Ma\x00ria"}, "first_name", "control characters"),
    ("first name not text", {"first_name": 12}, "first_name", "string"),
    ("last name too long", {"last_name": "x" * 101}, "last_name", "at most 100"),
    ("last name with a line break", {"last_name": "Lo\npez"}, "last_name", "control"),
    ("first name with ESC", {"first_name": "Ana\x1b[2J"}, "first_name", "control characters"),
    ("last name with BEL", {"last_name": "Lo\x07pez"}, "last_name", "control characters"),
    ("postal code not a US ZIP", {"postal_code": "K1A 0B1"}, "postal_code", "ZIP code"),
    ("postal code of four digits", {"postal_code": "6060"}, "postal_code", "ZIP code"),
    ("phone not a number", {"phone": "call me"}, "phone", "not a valid phone number"),
    ("phone too short", {"phone": "555"}, "phone", "not a valid phone number"),
    ("phone too long", {"phone": "1" * 41}, "phone", "at most 40"),
    ("email not an address", {"email": "maria@"}, "email", "valid e-mail"),
    ("email too long", {"email": "m" * 250 + "@x.org"}, "email", "at most 254"),
    (
        "neither phone nor email",
        {"phone": "", "email": MISSING},
        "email",
        "A phone number or an e-mail address is needed",
    ),
    ("date of birth not a date", {"date_of_birth": "14/03/1970"}, "date_of_birth", "YYYY-MM-DD"),
    ("date of birth a number", {"date_of_birth": 0}, "date_of_birth", "YYYY-MM-DD"),
    ("date of birth impossible", {"date_of_birth": "1970-02-30"}, "date_of_birth", "date"),
    ("date of birth in the future", {"date_of_birth": "2999-01-01"}, "date_of_birth", "today"),
    ("date of birth too long ago", {"date_of_birth": "1850-01-01"}, "date_of_birth", "1900"),
    ("postal code too long", {"postal_code": "6" * 21}, "postal_code", "at most 20"),
    ("preferred time too long", {"preferred_time": "x" * 101}, "preferred_time", "at most 100"),
    ("language not a tag", {"preferred_language": "Spanish!"}, "preferred_language", "pattern"),
    ("consent not an object", {"consent": "yes"}, "consent", "dictionary"),
    ("consent not a boolean", {"consent": {"sms": "yes"}}, "consent.sms", "boolean"),
    ("consent to an unknown channel", {"consent": {"fax": True}}, "consent.fax", "not permitted"),
    (
        "consent without its text version",
        {"consent_text_version": MISSING},
        "consent_text_version",
        "consent text",
    ),
    ("consent version too long", {"consent_text_version": "v" * 41}, "consent_text_version", "40"),
    ("campaign too long", {"campaign": "c" * 201}, "campaign", "at most 200"),
    ("material code too long", {"material_code": "m" * 61}, "material_code", "at most 60"),
    ("reference too long", {"external_reference": "r" * 201}, "external_reference", "200"),
    ("an unknown field", {"ssn": "123-45-6789"}, "ssn", "not permitted"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [pytest.param(o, f, m, id=case) for case, o, f, m in INVALID],
)
def test_each_invalid_field_is_a_422_naming_the_field(
    world: World, key: Key, overrides: dict[str, Any], field: str, message: str
):
    body = lead_body(world, **{k: v for k, v in overrides.items() if v is not MISSING})
    for name in [k for k, v in overrides.items() if v is MISSING]:
        body.pop(name)

    errors = _fields(post_lead(key, body))

    assert field in errors, errors
    assert message.lower() in errors[field].lower(), errors[field]
    assert Submission.objects.count() == 0
    assert Lead.objects.count() == 0


def test_all_the_errors_of_a_request_come_back_together(world: World, key: Key):
    body = lead_body(world, first_name="", phone="nope", date_of_birth="2999-01-01")

    errors = _fields(post_lead(key, body))

    assert {"first_name", "phone", "date_of_birth"} <= set(errors)


def test_a_study_site_of_another_organization_is_refused_like_one_that_does_not_exist(
    world: World, key: Key
):
    theirs = _fields(post_lead(key, lead_body(world, study_site=str(world.study_site_b.code))))
    nobodys = _fields(post_lead(key, lead_body(world, study_site=str(uuid.uuid4()))))

    assert theirs == nobodys == {"study_site": "No study site with this code is open to this key."}
    assert Submission.objects.count() == 0
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"{not json", 400, id="not json"),
        pytest.param(b"[1, 2]", 422, id="a list"),
        pytest.param(b'"Maria"', 422, id="a string"),
        pytest.param(b"", 422, id="empty"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(world: World, key: Key, raw, status):
    response = post_lead(key, None, raw=raw)

    assert response.status_code == status
    assert "detail" in response.json()
    assert Submission.objects.count() == 0


def test_an_idempotency_key_that_is_too_long_is_a_field_error(world: World, key: Key):
    errors = _fields(post_lead(key, lead_body(world), idempotency_key="k" * 201))

    assert "Idempotency-Key" in errors


# Idempotency --------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_and_body_returns_the_first_answer(
    world: World, key: Key
):
    first = post_lead(key, lead_body(world), idempotency_key="order-17")
    retry = post_lead(key, lead_body(world), idempotency_key="order-17")

    assert retry.status_code == first.status_code == 201
    assert retry.content == first.content
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert Submission.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.REPEAT_INTEREST).count() == 0


def test_the_same_body_with_its_fields_in_another_order_is_the_same_request(world: World, key: Key):
    body = lead_body(world)
    first = post_lead(key, body, idempotency_key="order-18")
    reordered = dict(reversed(list(body.items())))

    retry = post_lead(
        key, None, raw=json.dumps(reordered, indent=2).encode(), idempotency_key="order-18"
    )

    assert retry.content == first.content
    assert Lead.objects.count() == 1


def test_the_same_idempotency_key_with_a_different_body_is_refused(world: World, key: Key):
    first = post_lead(key, lead_body(world), idempotency_key="order-19")

    other = post_lead(key, lead_body(world, first_name="Ana"), idempotency_key="order-19")

    assert _fields(other) == {"Idempotency-Key": "This key was already used with a different body."}
    assert Lead.objects.count() == 1
    assert Person.objects.get().first_name == "Maria"
    assert post_lead(key, lead_body(world), idempotency_key="order-19").content == first.content


def test_a_refused_request_does_not_use_up_its_idempotency_key(world: World, key: Key):
    refused = post_lead(key, lead_body(world, phone="nope"), idempotency_key="order-20")

    fixed = post_lead(key, lead_body(world), idempotency_key="order-20")

    assert refused.status_code == 422
    assert fixed.status_code == 201
    assert IdempotencyRecord.objects.get().status_code == 201


def test_idempotency_keys_are_per_api_key(world: World, key: Key):
    other = make_key(world, organization=world.org_b, partner="Bayside")

    ours = post_lead(key, lead_body(world), idempotency_key="same")
    theirs = post_lead(
        other, lead_body(world, study_site=str(world.study_site_b.code)), idempotency_key="same"
    )

    assert ours.status_code == theirs.status_code == 201
    assert ours.json()["code"] != theirs.json()["code"]


# Authentication and rate limits --------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no header"),
        pytest.param("Basic dXNlcjpwYXNz", id="another scheme"),
        pytest.param("Bearer ", id="no key"),
        pytest.param("Bearer tn_0000000_secret", id="malformed prefix"),
        pytest.param("Bearer tn_00000000_", id="no secret"),
        pytest.param("Bearer nonsense", id="not a key"),
        pytest.param("Bearer tn_\x00\x00\x00\x00\x00\x00\x00\x00_x", id="NUL"),
    ],
)
def test_a_request_without_a_valid_key_is_a_401(world: World, key: Key, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = Client().post(
        LEADS_URL, lead_body(world), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="TrialsNest"'
    assert "Authorization: Bearer" in response.json()["detail"]
    assert Submission.objects.count() == 0


def test_a_key_with_the_wrong_secret_is_a_401(world: World, key: Key):
    wrong = Key(key.api_key, key.token[:-4] + "AAAA")

    assert post_lead(wrong, lead_body(world)).status_code == 401
    assert get_lead(wrong, uuid.uuid4()).status_code == 401


def test_a_revoked_key_is_a_401(world: World, key: Key):
    code = post_lead(key, lead_body(world)).json()["code"]

    api_key_revoke(api_key=key.api_key, actor=Actor(world.admin.user))

    assert post_lead(key, lead_body(world, first_name="Ana")).status_code == 401
    assert get_lead(key, code).status_code == 401
    assert Lead.objects.count() == 1


def test_the_key_is_stored_only_as_a_keyed_hash(world: World, key: Key):
    secret = key.token.split("_", 2)[2]
    stored = key.api_key

    assert key.token.startswith(f"tn_{stored.prefix}_")
    assert stored.hashed_key.startswith("hmac-sha256$")
    assert secret not in stored.hashed_key
    assert len(secret) >= 43  # 32 random bytes


def test_keys_keep_working_while_the_secret_key_is_rotated(settings, world: World, key: Key):
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "y" * 40

    settings.SECRET_KEY_FALLBACKS = [old]
    assert get_lead(key, uuid.uuid4()).status_code == 404
    settings.SECRET_KEY_FALLBACKS = []
    assert get_lead(key, uuid.uuid4()).status_code == 401


def test_a_signed_in_session_is_not_an_api_key(world: World, key: Key):
    admin = signed_in(world.admin.user)

    response = post_lead(None, lead_body(world), client=admin)

    assert response.status_code == 401


def test_the_api_needs_no_csrf_token_and_sets_no_cookies(world: World, key: Key):
    response = post_lead(key, lead_body(world), client=Client(enforce_csrf_checks=True))

    assert response.status_code == 201
    assert not response.cookies


def test_each_key_is_rate_limited_with_retry_after(settings, world: World, key: Key):
    settings.API_RATE_LIMIT = "2/minute"
    other = make_key(world, partner="Other partner")

    answers = [get_lead(key, uuid.uuid4()).status_code for _ in range(3)]
    limited = post_lead(key, lead_body(world))

    assert answers == [404, 404, 429]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert "2/minute" in limited.json()["detail"]
    assert Submission.objects.count() == 0
    assert get_lead(other, uuid.uuid4()).status_code == 404


def test_the_last_use_of_a_key_is_recorded_at_most_once_a_minute(world: World, key: Key):
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        get_lead(key, uuid.uuid4())
        key.api_key.refresh_from_db()
        assert key.api_key.last_used_at == start

        traveller.shift(timedelta(seconds=59))
        get_lead(key, uuid.uuid4())
        key.api_key.refresh_from_db()
        assert key.api_key.last_used_at == start

        traveller.shift(timedelta(seconds=2))
        get_lead(key, uuid.uuid4())
        key.api_key.refresh_from_db()
        assert key.api_key.last_used_at == start + timedelta(seconds=61)


# Reading a lead ------------------------------------------------------------------------------


def test_a_partner_reads_the_status_of_a_lead_it_sent(world: World, key: Key):
    created = post_lead(key, lead_body(world)).json()

    response = get_lead(key, created["code"])

    assert response.status_code == 200
    assert response.json() == created


def test_the_status_a_partner_reads_shows_no_personal_data_notes_or_outcomes(
    world: World, key: Key
):
    code = post_lead(key, lead_body(world)).json()["code"]
    lead = Lead.objects.get(code=code)
    staff = Actor(user=world.coordinator.user)
    lead_add_note(lead=lead, text="Mentions a diabetes diagnosis", actor=staff)
    lead = lead_change_status(lead=lead, status=Status.PRESCREENING, actor=staff)
    lead = lead_change_status(lead=lead, status=Status.NEEDS_REVIEW, actor=staff)

    response = get_lead(key, code)

    body = response.json()
    assert set(body) == {"code", "status", "received_at", "status_changed_at"}
    assert body["status"] == "in_progress"
    assert body["status_changed_at"] == lead.status_changed_at.isoformat().replace("+00:00", "Z")
    text = response.content.decode().lower()
    for private in (
        "maria",
        "lopez",
        "5550142",
        "example.com",
        "1970",
        "60601",
        "evenings",
        "diabetes",
        "review",
        "acme",
        "spring-radio",
    ):
        assert private not in text, private


@pytest.mark.parametrize(
    ("statuses", "label"),
    [
        pytest.param([], "received", id="new"),
        pytest.param([Status.CONTACTING], "contacting", id="contacting"),
        pytest.param([Status.PRESCREENING, Status.RECORDS_PENDING], "in_progress", id="records"),
        pytest.param([Status.CLOSED], "closed", id="closed"),
    ],
)
def test_a_partner_sees_coarse_status_labels(world: World, key: Key, statuses, label):
    code = post_lead(key, lead_body(world)).json()["code"]
    lead = Lead.objects.get(code=code)
    for status in statuses:
        close_reason = "not_a_fit" if status == Status.CLOSED else ""
        lead = lead_change_status(
            lead=lead, status=status, close_reason=close_reason, actor=Actor(user=None)
        )

    response = get_lead(key, code)

    assert response.json()["status"] == label
    assert "fit" not in response.content.decode()


def test_a_partner_cannot_read_a_lead_another_key_sent_even_of_the_same_partner(
    world: World, key: Key
):
    same_partner = make_key(world)  # same organization, same partner name
    other_org = make_key(world, organization=world.org_b, partner="Bayside")
    code = post_lead(key, lead_body(world)).json()["code"]

    assert get_lead(same_partner, code).status_code == 404
    assert get_lead(other_org, code).status_code == 404


def test_leads_that_did_not_come_through_the_key_and_made_up_codes_are_404(world: World, key: Key):
    web_lead = new_lead(study_site=world.study_site_a)

    answers = [
        get_lead(key, web_lead.code),
        get_lead(key, uuid.uuid4()),
        get_lead(key, "not-a-code"),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.content for a in answers} == {b'{"detail": "Not found."}'}


# Postal codes and size ----------------------------------------------------------------------


def test_a_postal_code_is_checked_for_the_country_of_the_study_site(world: World):
    site = SiteFactory(organization=world.org_a, country="Canada", postal_code="K1A 0B1")
    canadian = StudySiteFactory(site=site, study=world.study_site_a.study)
    key = make_key(world)

    refused = post_lead(key, lead_body(world, study_site=str(canadian.code), postal_code="60601"))
    accepted = post_lead(key, lead_body(world, study_site=str(canadian.code), postal_code="k1a0b1"))

    assert _fields(refused) == {"postal_code": "Enter a postal code such as K1A 0B1."}
    assert accepted.status_code == 201, accepted.content
    assert Lead.objects.get(code=accepted.json()["code"]).person.postal_code == "K1A 0B1"
    assert Submission.objects.count() == 1  # the refused one was not kept


def test_an_oversized_body_gets_a_json_413_in_the_apis_error_shape(
    world: World, key: Key, settings: Any
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = lead_body(world, external_reference="x" * 20_000)

    response = post_lead(key, body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request is too large.",
        "errors": [{"field": "body", "message": "The request body is larger than 10,000 bytes."}],
    }
    assert not Submission.objects.exists()


def test_the_default_body_limit_answers_json_too(world: World, key: Key):
    response = post_lead(key, None, raw=b'{"first_name": "' + b"x" * 3_000_000 + b'"}')

    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"
