"""CSV import of vendor lists: reading, preview, set-based writing, results and safety."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from leads.intake.csv import matching, reader, writer
from leads.intake.csv.services import csv_import_set_mapping, csv_import_upload
from leads.models import Activity, CsvImport, Lead, Person, Status
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite


def _csv_1000_with_3_bad() -> bytes:
    lines = ["\ufeffFirst name;Last name;Phone;E-mail;DOB;Notes"]
    for i in range(1000):
        phone = f"(303) 555-{i:04d}" if i < 900 else ""
        email = f"person{i}@example.org" if i >= 100 else ""
        note = '"called twice;\nprefers mornings"' if i == 5 else "ok"
        if i == 10:
            phone = "12"  # bad phone
        if i == 20:
            email, phone = "not-an-email", ""  # bad e-mail, no phone
        if i == 30:
            phone, email = "", ""  # no contact
        lines.append(f"Pat{i};Lee;{phone};{email};1970-01-02;{note}")
        if i % 250 == 0:
            lines.append("")  # blank lines are ignored
    lines.append("Pat0;Lee;(303) 555-0000;;1970-01-02;again")  # in-file duplicate of row 1
    return ("\n".join(lines) + "\n").encode("utf-8")


def _upload(client, world: World, data: bytes, name: str = "vendor.csv"):
    return client.post(
        reverse("import_new"),
        {
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
            "study_site": world.study_site_a.pk,
            "source": "vendor_list",
            "campaign": "spring",
        },
    )


def test_it_reads_bom_semicolons_quoted_newlines_and_skips_blank_lines():
    text = reader.decode(_csv_1000_with_3_bad())
    header, rows = reader.read_rows(text)
    rows = list(rows)
    assert header[0] == "First name"
    assert len(rows) == 1001
    assert "prefers mornings" in rows[5][1][5]
    assert reader.guess_mapping(header) == {
        "first_name": 0,
        "last_name": 1,
        "phone": 2,
        "email": 3,
        "date_of_birth": 4,
    }


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message():
    with pytest.raises(reader.CsvError, match="not UTF-8"):
        reader.decode("Nombre;Teléfono\n".encode("latin-1"))


def test_the_preview_says_what_happens_to_every_row(world: World):
    text = reader.decode(_csv_1000_with_3_bad())
    header, _ = reader.read_rows(text)
    rows = matching.analyze(text, reader.guess_mapping(header), world.study_site_a)

    rejected = {r.line: r.reason for r in rows if r.action == "reject"}
    assert len(rejected) == 3
    assert any("bad phone “12”" in reason for reason in rejected.values())
    assert any("bad e-mail “not-an-email”" in reason for reason in rejected.values())
    assert any("no contact" in reason for reason in rejected.values())
    counts = matching.summary(rows)
    assert counts == {"create": 997, "attach": 0, "skip": 1, "reject": 3}
    (duplicate,) = [r for r in rows if r.action == "skip"]
    assert duplicate.reason == "duplicate of line 2 in this file"


def test_a_known_person_is_attached_and_an_open_lead_is_skipped(world: World):
    known = new_lead(study_site=world.study_site_a2)
    busy = new_lead(study_site=world.study_site_a)
    data = (
        "name,phone,email\n"
        f"Known Person,{known.person.phone},\n"
        f"Busy Person,,{busy.person.email}\n"
        "New Person,(720) 555-0199,\n"
    ).encode()
    text = reader.decode(data)
    header, _ = reader.read_rows(text)
    rows = matching.analyze(text, reader.guess_mapping(header), world.study_site_a)

    assert [r.action for r in rows] == ["attach", "skip", "create"]
    assert rows[0].person_id == known.person_id
    assert rows[1].reason == "already has an open lead for this study"
    assert rows[2].person["first_name"] == "New"
    assert rows[2].person["last_name"] == "Person"


def test_an_import_writes_people_leads_timeline_and_audit_set_based(
    world: World, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    response = _upload(client, world, _csv_1000_with_3_bad())
    imp = CsvImport.objects.get()
    assert response["Location"] == reverse("import_detail", kwargs={"code": imp.code})

    preview = client.get(response["Location"]).content.decode()
    assert "<strong>997</strong> new people" in preview
    assert "<strong>3</strong> rejected" in preview
    assert Lead.objects.count() == 0  # nothing is written before the confirmation

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})

    imp.refresh_from_db()
    assert imp.state == CsvImport.State.DONE
    assert (imp.created, imp.attached, imp.skipped, imp.rejected) == (997, 0, 1, 3)
    leads = Lead.objects.filter(study_site=world.study_site_a)
    assert leads.count() == 997
    assert not leads.filter(owner__isnull=True).exists()
    assert set(leads.values_list("status", flat=True)) == {Status.NEW}
    assert not leads.filter(next_action="").exists()
    assert Person.objects.filter(organization=world.org_a).count() == 997
    assert Activity.objects.filter(lead__in=leads, kind="received").count() == 997
    assert (
        AuditEvent.objects.filter(action="lead.created", reason__contains=str(imp.code)).count()
        == 997
    )
    assert AuditEvent.objects.filter(action="csv_import.completed").exists()


def test_rejected_rows_download_with_reasons_and_formulas_are_defused(
    world: World, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    data = b'name,phone\n=HYPERLINK("x"),12\n+Ann Lee,(303) 555-0100\n'
    _upload(client, world, data)
    imp = CsvImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})

    response = client.get(reverse("import_rejected", kwargs={"code": imp.code}))
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["name", "phone", "line", "reason"]
    assert rows[1][0] == '\'=HYPERLINK("x")'
    assert "bad phone" in rows[1][3]
    assert len(rows) == 2


def test_uploading_the_same_file_again_warns_and_needs_a_confirmation(
    world: World, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    data = b"name,phone\nAnn Lee,(303) 555-0100\n"
    _upload(client, world, data)
    first = CsvImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": first.code}), {"attested": "on"})

    _upload(client, world, data, name="same-again.csv")
    second = CsvImport.objects.exclude(pk=first.pk).get()
    page = client.get(reverse("import_detail", kwargs={"code": second.code})).content.decode()
    assert "This exact file was imported before" in page

    client.post(reverse("import_start", kwargs={"code": second.code}), {"attested": "on"})
    second.refresh_from_db()
    assert second.state == CsvImport.State.UPLOADED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("import_start", kwargs={"code": second.code}), {"attested": "on", "again": "on"}
        )
    second.refresh_from_db()
    assert second.state == CsvImport.State.DONE
    assert second.skipped == 1  # the person already has an open lead
    assert Lead.objects.count() == 1


def test_an_import_needs_the_consent_attestation(world: World):
    client = signed_in(world.site_lead.user)
    _upload(client, world, b"name,phone\nAnn Lee,(303) 555-0100\n")
    imp = CsvImport.objects.get()
    response = client.post(reverse("import_start", kwargs={"code": imp.code}), follow=True)
    assert "agreed to be contacted" in response.content.decode()
    imp.refresh_from_db()
    assert imp.state == CsvImport.State.UPLOADED


def test_running_the_task_twice_imports_once(world: World, django_capture_on_commit_callbacks):
    from leads.tasks import import_csv

    client = signed_in(world.site_lead.user)
    _upload(client, world, b"name,phone\nAnn Lee,(303) 555-0100\n")
    imp = CsvImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})
    assert import_csv(imp.pk) == "not queued"
    assert Lead.objects.count() == 1


def test_a_bad_upload_gets_a_message_next_to_the_file_field(world: World):
    client = signed_in(world.site_lead.user)
    response = _upload(client, world, "Nombre\nJosé\n".encode("latin-1"))
    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()
    assert not CsvImport.objects.exists()


def test_another_organizations_import_is_a_404_and_coordinators_may_not_import(world: World):
    client = signed_in(world.site_lead.user)
    _upload(client, world, b"name,phone\nAnn Lee,(303) 555-0100\n")
    imp = CsvImport.objects.get()
    outsider = signed_in(world.outsider.user)
    for name in ("import_detail", "import_progress", "import_rejected", "import_original"):
        assert outsider.get(reverse(name, kwargs={"code": imp.code})).status_code == 404
    assert outsider.post(reverse("import_start", kwargs={"code": imp.code})).status_code == 404
    coordinator = signed_in(world.coordinator.user)
    assert coordinator.get(reverse("import_list")).status_code == 403


def test_safe_cell_defuses_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert writer.safe_cell(f"{start}1+1").startswith("'")
    assert writer.safe_cell("Ann") == "Ann"


def test_imported_leads_are_spread_fairly_and_respect_capacity(world: World):
    from django.db import transaction

    from leads.services import owners_for
    from tests.factories import MembershipFactory
    from trialsnest.tenancy.models import Role

    busy = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR, capacity=1)
    busy.restricted_study_sites.set([world.study_site_a])
    with transaction.atomic():
        owners = owners_for(world.study_site_a, 7)

    # The restricted coordinator and `busy` share the work; `busy` stops at its capacity of 1.
    assert owners.count(busy) == 1
    assert owners.count(world.coordinator) == 6
    assert {o.role for o in owners} == {Role.COORDINATOR}


def test_an_imported_lead_is_built_like_a_single_one_and_audited_by_its_code(
    world: World, django_capture_on_commit_callbacks
):
    """One construction path: a StudySite that is paused holds imported leads too, and each
    lead's audit event names that lead."""
    StudySite.objects.filter(pk=world.study_site_a.pk).update(recruitment_status="paused")
    client = signed_in(world.site_lead.user)
    _upload(client, world, b"name,phone\nAnn Lee,(303) 555-0100\nBo Ray,(303) 555-0101\n")
    imp = CsvImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})

    leads = Lead.objects.filter(study_site=world.study_site_a)
    assert set(leads.values_list("blocker", flat=True)) == {"study_paused"}
    events = AuditEvent.objects.filter(action="lead.created", reason=f"CSV import {imp.code}")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(
        str(code) for code in leads.values_list("code", flat=True)
    )
    assert {e.actor_id for e in events} == {world.site_lead.user.pk}


def test_changing_the_mapping_is_audited_and_refused_once_the_import_started(
    world: World, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    _upload(client, world, b"name,phone\nAnn Lee,(303) 555-0100\n")
    imp = CsvImport.objects.get()
    actor = Actor(world.site_lead.user)
    csv_import_set_mapping(imp=imp, columns={"full_name": 0, "phone": 1}, consent=[], actor=actor)
    assert AuditEvent.objects.filter(action="csv_import.mapped", object_id=str(imp.code)).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"})
    with pytest.raises(ValidationError, match="already started"):
        csv_import_set_mapping(imp=imp, columns={"phone": 1}, consent=[], actor=actor)


def test_an_upload_is_never_part_of_a_larger_transaction(world: World):
    """Keeping the file and its row is the outermost write: nested, it could be rolled back."""
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        csv_import_upload(
            data=b"name,phone\nAnn Lee,(303) 555-0100\n",
            filename="list.csv",
            study_site=world.study_site_a,
            source="vendor_list",
            campaign="",
            actor=Actor(world.site_lead.user),
        )


def test_a_row_with_control_characters_in_the_name_is_rejected_with_the_reason():
    mapping = {"first_name": 0, "last_name": 1, "phone": 2}

    row = reader.check_row(2, ["Ana\x1b[2J", "Lopez", "(303) 555-0100"], mapping)
    fine = reader.check_row(3, ["Ana", "López", "(303) 555-0101"], mapping)

    assert (row.action, row.reason) == ("reject", "control characters in the name")
    assert fine.action == "create"
