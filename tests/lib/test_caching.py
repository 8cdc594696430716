"""Answers that may carry personal data say `Cache-Control: no-store, private`; others are left
to their views."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leads.models import CsvImport
from tests.conftest import World, signed_in
from tests.factories import new_lead
from tests.leads.api.conftest import LEADS_URL, lead_body, make_key

NO_STORE = "no-store, private"


@pytest.fixture
def coordinator(world: World) -> Client:
    return signed_in(world.coordinator.user)


def test_staff_pages_and_fragments_are_never_stored(world: World, coordinator: Client):
    lead = new_lead(study_site=world.study_site_a)
    htmx = {"HX-Request": "true"}
    action = reverse("lead_action", kwargs={"code": lead.code, "action": "note"})

    responses = {
        "queue": coordinator.get("/queue/"),
        "queue fragment": coordinator.get("/queue/?tab=new", headers=htmx),
        "search": coordinator.get("/queue/search/", {"q": lead.person.last_name}),
        "search fragment": coordinator.get(
            "/queue/search/", {"q": lead.person.last_name}, headers=htmx
        ),
        "lead page": coordinator.get(f"/leads/{lead.code}/"),
        "action form fragment": coordinator.get(f"{action}?in=queue", headers=htmx),
        "note saved": coordinator.post(action, {"text": "Called", "version": lead.version}),
    }

    assert responses["queue"].status_code == 200
    assert lead.person.last_name in responses["search"].content.decode()
    assert lead.person.last_name in responses["lead page"].content.decode()
    assert {name: r["Cache-Control"] for name, r in responses.items()} == dict.fromkeys(
        responses, NO_STORE
    )


def test_csv_downloads_and_the_original_upload_are_never_stored(
    world: World, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    data = b"name,phone\nAnn Lee,(303) 555-0100\nBad Phone,12\n"
    with django_capture_on_commit_callbacks(execute=True):  # the worker checks the file
        client.post(
            reverse("import_new"),
            {
                "file": SimpleUploadedFile("list.csv", data, content_type="text/csv"),
                "study_site": world.study_site_a.pk,
                "source": "vendor_list",
            },
        )
    imp = CsvImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})

    original = client.get(reverse("import_original", kwargs={"code": imp.code}))
    rejected = client.get(reverse("import_rows", kwargs={"code": imp.code, "outcome": "rejected"}))

    assert b"".join(original.streaming_content) == data  # type: ignore[attr-defined]
    assert b"Bad Phone" in b"".join(rejected.streaming_content)  # type: ignore[attr-defined]
    for download in (original, rejected):
        directives = {d.strip() for d in download["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, download["Cache-Control"]


def test_api_answers_are_never_stored(world: World):
    key = make_key(world)
    client = Client()

    created = client.post(
        LEADS_URL, lead_body(world), content_type="application/json", headers=key.headers()
    )
    status = client.get(f"{LEADS_URL}/{created.json()['code']}", headers=key.headers())
    refused = client.get(
        f"{LEADS_URL}/{created.json()['code']}", headers={"Authorization": "Bearer tn_x_wrong"}
    )

    assert created.status_code == 201
    assert status.status_code == 200
    assert [created["Cache-Control"], status["Cache-Control"]] == [NO_STORE, NO_STORE]
    assert refused.status_code == 401
    assert refused["Cache-Control"] == NO_STORE


def test_a_refused_public_interest_form_that_shows_back_what_was_typed_is_never_stored(
    world: World,
):
    response = Client().post(
        f"/studies/{world.study_site_a.study.code}/",
        {"first_name": "Maria", "last_name": "Lopez", "phone": "12"},
    )

    assert response.status_code == 200
    assert "Lopez" in response.content.decode()
    assert response["Cache-Control"] == NO_STORE


def test_public_pages_for_a_visitor_and_views_with_their_own_caching_are_left_alone(
    world: World, coordinator: Client
):
    public = Client().get(f"/studies/{world.study_site_a.study.code}/")
    asset = coordinator.get(reverse("api_docs_asset", kwargs={"name": "swagger-ui-init.js"}))

    assert public.status_code == 200
    assert not public.has_header("Cache-Control")
    assert asset["Cache-Control"] == "public, max-age=86400"
