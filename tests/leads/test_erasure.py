"""Erasure on a person's request: after it, the person's canary values are found in no text or
JSON column of any table, nor in the cache; the lead rows, their statuses and the audit trail
stay; it needs a recent sign-in and is audited, by reference only."""

from __future__ import annotations

import logging

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from leads import services
from leads.erasure import ERASED, person_erase
from leads.intake.merges import person_merge
from leads.models import Channel, CsvImport, CsvImportRow, Lead, Person
from leads.outreach.models import InboundMessage
from leads.outreach.services.sending import message_queue
from prescreen.models import PrescreenResponse
from prescreen.services.responses import response_confirm, response_save
from tests.conftest import World, signed_in
from tests.leads.visitors import interest_form, new_visitor
from tests.prescreen.objects import org_a_published
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)
CANARIES = ("Qzcanaryfirst", "Qzcanarylast", "qz.canary@example.org", "5550177", "qzcanarynote")


def _tables_holding(value: str) -> list[str]:
    """Every (table.column) of text or JSON whose value contains `value`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'ARRAY')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',
                [f"%{value}%"],
            )
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def _redis_holding(values: tuple[str, ...]) -> list[bytes]:
    """Keys of the cache and broker's Redis whose value holds one of `values`."""
    if not settings.REDIS_URL:
        return []
    client = redis.Redis.from_url(settings.REDIS_URL)
    found = []
    for key in client.scan_iter(count=1000):
        if client.type(key) != b"string":
            continue
        raw = bytes(client.get(key) or b"")  # type: ignore[arg-type]
        if any(value.encode() in raw for value in values):
            found.append(key)
    return found


@pytest.fixture
def person(world: World) -> Person:
    """A person who filled in the public form, then was called, written to, prescreened."""
    actor = Actor(world.coordinator.user)
    new_visitor().post(
        f"/studies/{world.study_site_a.study.code}/",
        interest_form(
            first_name="Qzcanaryfirst", last_name="Qzcanarylast", email="qz.canary@example.org",
            phone="(312) 555-0177", consent=["phone", "email"],
        ),
    )  # fmt: skip
    person = Person.objects.get(last_name="Qzcanarylast")
    lead = Lead.objects.get(person=person)
    services.lead_add_note(lead=lead, text="Called Qzcanaryfirst: qzcanarynote", actor=actor)
    message_queue(
        person=person, lead=lead, channel="email", subject="Hello Qzcanaryfirst",
        body="Dear Qzcanaryfirst Qzcanarylast, qzcanarynote", actor=actor, idempotency_key="k1",
    )  # fmt: skip
    InboundMessage.objects.create(
        organization=world.org_a, person=person, lead=lead, channel="sms",
        from_number="+13125550177", body="It's Qzcanaryfirst, qzcanarynote",
        intent=InboundMessage.Intent.REPLY, received_at=timezone.now(),
    )  # fmt: skip
    services.person_record_opt_out(
        person=person, channel=Channel.SMS, actor=actor, evidence="Qzcanaryfirst said stop"
    )
    version = org_a_published(world)
    answers = {str(q.code): "yes" for q in version.questions.filter(kind="yes_no")}
    response = response_save(lead=lead, answers=answers, actor=actor, submit=True)
    response = PrescreenResponse.objects.get(pk=response.pk)
    response_confirm(response=response, outcome="needs_review", reason="qzcanarynote", actor=actor)
    return person


def test_before_erasure_the_canaries_are_where_expected(person):
    assert _tables_holding("Qzcanarylast")  # the scan itself finds what is there
    assert _tables_holding("qzcanarynote")


def test_after_erasure_no_canary_is_left_anywhere(world: World, person):
    lead = Lead.objects.get(person=person)
    status = lead.status

    person_erase(person=person, actor=Actor(world.site_lead.user), reason="Request 2026-118")

    left = {value: _tables_holding(value) for value in CANARIES}
    assert {value: where for value, where in left.items() if where} == {}
    assert _redis_holding(CANARIES) == []
    erased = Person.objects.get(pk=person.pk)
    assert (erased.first_name, erased.erased_at is not None) == (ERASED, True)
    lead.refresh_from_db()
    assert lead.status == status  # the lead, and with it the reports, stay
    event = AuditEvent.objects.get(action="person.erased")
    assert (event.object_id, event.reason) == (str(person.code), "Request 2026-118")


def test_the_lead_page_and_the_export_still_open_after_erasure(world: World, person):
    person_erase(person=person, actor=Actor(world.site_lead.user), reason="Request 7")
    client = signed_in(world.site_lead.user)
    lead = Lead.objects.get(person=person)

    assert client.get(f"/leads/{lead.code}/").status_code == 200
    page = client.get(f"/people/{person.code}/export/").content.decode()
    assert "details were erased" in page


def test_erasing_from_the_page_needs_the_confirmation_and_a_reason(world: World, person):
    client = signed_in(world.site_lead.user)
    url = f"/people/{person.code}/erase/"
    assert client.get(url).status_code == 200

    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200
    assert Person.objects.get(pk=person.pk).erased_at is None

    done = client.post(url, {"reason": "Letter of 1 Dec", "confirm": "on"})
    assert done.status_code == 302
    assert Person.objects.get(pk=person.pk).erased_at is not None
    again = client.post(url, {"reason": "again", "confirm": "on"})
    assert "erased already" in again.content.decode()


def test_a_coordinator_may_not_erase(world: World, person):
    response = signed_in(world.coordinator.user).post(
        f"/people/{person.code}/erase/", {"reason": "x", "confirm": "on"}
    )
    assert response.status_code == 403
    assert Person.objects.get(pk=person.pk).erased_at is None


def _imported(world: World, lines: str) -> CsvImport:
    """A vendor list uploaded and written by the site lead, as through the pages."""
    client = signed_in(world.site_lead.user)
    client.post(
        "/imports/new/",
        {
            "file": SimpleUploadedFile("vendor.csv", lines.encode(), content_type="text/csv"),
            "study_site": world.study_site_a.pk, "source": "vendor_list", "campaign": "spring",
        },
    )  # fmt: skip
    imp = CsvImport.objects.get()
    client.post(f"/imports/{imp.code}/start/", {"attested": "on"})
    return imp


def test_a_vendor_list_row_and_a_merge_of_the_person_are_erased_too(
    world: World, person, django_capture_on_commit_callbacks, caplog
):
    """Their row in a CSV import and in the original file it keeps (the other people's lines
    stay), and a merge that folded a second record of them in; and what was logged meanwhile
    (the import, the merge, the erasure) names none of their details."""
    caplog.set_level(logging.DEBUG)
    lines = (
        "First name;Last name;Phone;E-mail\n"
        "Qzcanaryfirst;Qzcanarylast;;qz.canary@example.org\n"
        "Ana;Ortega;;ana.ortega@example.org\n"
    )
    imp = _imported(world, lines)
    assert CsvImportRow.objects.filter(csv_import=imp).exists()
    twin = services.person_create(
        organization=world.org_a, actor=Actor(None), first_name="Qzcanaryfirst",
        last_name="Qzcanarylast", postal_code="60601", email="qz.canary@example.org",
    )  # fmt: skip
    person_merge(keep=person, other=twin, values={"postal_code": "other"},
                 actor=Actor(world.site_lead.user))  # fmt: skip
    assert "leads_csvimportrow.cells" in _tables_holding("Qzcanarylast")

    with django_capture_on_commit_callbacks(execute=True):  # the file's task, after commit
        person_erase(person=person, actor=Actor(world.site_lead.user), reason="Request 9")

    assert {value: where for value in CANARIES if (where := _tables_holding(value))} == {}
    imp.refresh_from_db()
    with imp.file.open("rb") as handle:
        kept = handle.read().decode()
    assert not [value for value in CANARIES if value in kept]
    assert kept.splitlines() == ["First name;Last name;Phone;E-mail", ";;;",
                                 "Ana;Ortega;;ana.ortega@example.org"]  # fmt: skip
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "Erased 1 line(s) of import" in logged  # the scan reads the real log
    assert [value for value in CANARIES if value.lower() in logged.lower()] == []


def test_a_rejected_row_of_the_person_goes_and_a_housemates_stays(
    world: World, person, django_capture_on_commit_callbacks
):
    """Rejected rows are tied to nobody: the person's is known by every word of their name and
    their e-mail or phone; a housemate sharing the e-mail keeps theirs."""
    lines = (
        "First name;Last name;Phone;E-mail;Date of birth\n"
        "Qzcanaryfirst;Qzcanarylast;;QZ.Canary@example.org;31/02/1961\n"
        "Qzcanaryfirst;Qzcanarylast;312.555.0177;;30/02/1961\n"
        "Bo;Qzcanarylast;;qz.canary@example.org;31/02/1990\n"
        "Ana;Ortega;+1 (312) 555-0177;;31/02/1970\n"
    )
    imp = _imported(world, lines)
    rows = CsvImportRow.objects.filter(csv_import=imp).order_by("line")
    assert [row.outcome for row in rows] == [CsvImportRow.Outcome.REJECTED] * 4

    with django_capture_on_commit_callbacks(execute=True):
        person_erase(person=person, actor=Actor(world.site_lead.user), reason="Request 10")

    assert [row.cells == [] for row in rows.all()] == [True, True, False, False]
    imp.refresh_from_db()
    with imp.file.open("rb") as handle:
        kept = handle.read().decode().splitlines()
    assert kept[1:3] == [";;;;", ";;;;"]  # by e-mail, and by the phone in another format
    assert kept[3:] == [
        "Bo;Qzcanarylast;;qz.canary@example.org;31/02/1990",
        "Ana;Ortega;+1 (312) 555-0177;;31/02/1970",
    ]
