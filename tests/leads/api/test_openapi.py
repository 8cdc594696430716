"""The OpenAPI document is valid, the API keeps to it under generated input, and no input is a
500; the browsable docs need nothing but our own origin."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from leads.models import ApiKey, Lead, Submission
from tests.conftest import World
from tests.leads.api.conftest import Key, lead_body, make_key, post_lead
from trialsnest.wsgi import application

# Examples per API operation: enough to find crashes, small enough for a fast suite.
EXAMPLES = 40
_people = itertools.count()


def test_the_openapi_document_loads_in_schemathesis_and_describes_every_operation():
    document = Client().get("/api/openapi.json").json()

    schema = schemathesis.openapi.from_dict(document)

    operations = {
        (op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())
    }
    assert operations == {
        ("POST", "/api/v1/leads"),
        ("GET", "/api/v1/leads/{code}"),
        ("GET", "/api/v1/handoffs/"),
    }
    assert document["components"]["securitySchemes"]["BearerApiKey"]["scheme"] == "bearer"
    post = document["paths"]["/api/v1/leads"]["post"]
    assert {"201", "200", "202", "401", "422", "429"} <= set(post["responses"])
    assert [p["name"] for p in post["parameters"]] == ["Idempotency-Key"]


# Loading asks the WSGI app for /api/openapi.json, which needs no database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def wsgi_calls_keep_the_test_transaction() -> Iterator[None]:
    # As Django's test client does: a request must not close the test's connection (and so
    # roll back its transaction) when it finishes.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def unlimited(settings: Any) -> None:
    settings.API_RATE_LIMIT = "100000/minute"


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_make_a_500_and_every_answer_keeps_to_the_document(
    case: Any, world: World, unlimited: None, wsgi_calls_keep_the_test_transaction: None
):
    key = make_key(world, scopes=list(ApiKey.Scope.values))  # every operation answers it
    # Half the valid bodies get a real StudySite and phone number (which the document cannot
    # describe), so generated names, dates and codes also go all the way through intake.
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and isinstance(case.body, dict) and len(str(case.body)) % 2:
        phone = f"+13125{next(_people) % 1_000_000:06d}"  # a new person each time
        case.body.update(study_site=str(world.study_site_a.code), phone=phone, email="")
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = str(uuid.uuid4())

    # The document cannot say "a real phone number" or "a StudySite of your organization", so a
    # schema-valid body may rightly get a 422: every other built-in check applies.
    excluded: list[Any] = [positive_data_acceptance]
    if case.query and any(value is None for value in case.query.values()):
        # A query parameter generated as None is never sent (the client drops it): what arrives
        # is a valid request, rightly answered 200, not the "negative" one the case describes.
        excluded.append(negative_data_rejection)
    response = case.call_and_validate(headers=key.headers(), excluded_checks=excluded)

    assert response.status_code < 500


@given(
    first_name=st.text(min_size=1, max_size=100),
    last_name=st.text(max_size=100),
    preferred_time=st.text(max_size=100),
    campaign=st.text(max_size=200),
    material_code=st.text(max_size=60),
    external_reference=st.text(max_size=200),
)
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_free_text_makes_a_lead_or_a_field_error_never_a_500(
    world: World, key: Key, unlimited: None, **text: str
):
    # A new person each time, so every example creates a person and a lead.
    email = f"fuzz{next(_people)}@example.com"

    response = post_lead(key, lead_body(world, phone="", email=email, **text))

    if response.status_code == 422:
        refused = {error["field"] for error in response.json()["errors"]}
        assert refused
        assert refused <= set(text)
    else:
        assert response.status_code in (200, 201), response.content
        assert Lead.objects.filter(code=response.json()["code"]).exists()
        assert Submission.objects.filter(processed_at__isnull=False).exists()


# Docs ----------------------------------------------------------------------------------------


def test_the_docs_page_loads_swagger_from_our_own_origin_only():
    response = Client().get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources == [
        "/api/docs/assets/swagger-ui-bundle.js",
        "/api/docs/assets/swagger-ui-init.js",
    ]
    # The only other script element is data (the settings), which CSP does not run.
    assert [s for s in scripts if "src=" not in s] == [
        '<script id="swagger-settings" type="application/json">'
    ]
    assert "http://" not in html
    assert "https://" not in html
    policy = response["Content-Security-Policy"]
    assert re.search(r"script-src 'self'( 'nonce-[^']+')?;", policy)
    assert "unsafe" not in policy
    assert "/api/openapi.json" in html


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui-init.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ],
)
def test_the_docs_assets_are_served_with_their_types(name: str, content_type: str):
    response = Client().get(f"/api/docs/assets/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response.getvalue()


@pytest.mark.parametrize("name", ["favicon.png", "..%2Fsettings.py", "swagger-ui-bundle.js.map"])
def test_no_other_file_is_served_as_a_docs_asset(name: str):
    assert Client().get(f"/api/docs/assets/{name}").status_code == 404
