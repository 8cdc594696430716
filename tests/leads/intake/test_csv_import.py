"""CSV import of vendor lists: reading, the check of every row (kept, and paged through by the
preview), set-based writing, the outcome of each row as a download, and safety."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse

from leads.intake.csv import reader, results
from leads.intake.csv.services import csv_import_set_mapping, csv_import_upload
from leads.models import (
    Activity,
    CsvImport,
    CsvImportRow,
    Lead,
    Person,
    Status,
    SuspectedDuplicate,
)
from tests.conftest import World, signed_in
from tests.factories import PersonFactory, new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite

Outcome = CsvImportRow.Outcome


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


@pytest.fixture
def checked(world: World, django_capture_on_commit_callbacks):
    """Upload a file as the site lead; the worker checks its rows (after commit)."""

    def upload(data: bytes, name: str = "vendor.csv") -> CsvImport:
        with django_capture_on_commit_callbacks(execute=True):
            _upload(signed_in(world.site_lead.user), world, data, name)
        imp = CsvImport.objects.order_by("-pk").first()
        assert imp is not None
        assert imp.state == CsvImport.State.ANALYZED, imp.error
        return imp

    return upload


@pytest.fixture
def imported(world: World, checked, django_capture_on_commit_callbacks):
    """Upload, check and import a file as the site lead."""

    def run(data: bytes, name: str = "vendor.csv", **extra: str) -> CsvImport:
        imp: CsvImport = checked(data, name)
        with django_capture_on_commit_callbacks(execute=True):
            signed_in(world.site_lead.user).post(
                reverse("import_start", kwargs={"code": imp.code}), {"attested": "on", **extra}
            )
        imp.refresh_from_db()
        return imp

    return run


def _outcomes(imp: CsvImport) -> dict[int, tuple[str, str]]:
    return {r.line: (r.outcome, r.reason) for r in CsvImportRow.objects.filter(csv_import=imp)}


def _download(client, imp: CsvImport, outcome: str) -> list[list[str]]:
    response = client.get(reverse("import_rows", kwargs={"code": imp.code, "outcome": outcome}))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


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


def test_the_check_says_what_happens_to_every_row(world: World, checked):
    imp = checked(_csv_1000_with_3_bad())

    outcomes = _outcomes(imp)
    assert len(outcomes) == 1001
    rejected = [reason for outcome, reason in outcomes.values() if outcome == Outcome.REJECTED]
    assert len(rejected) == 3
    assert any("bad phone “12”" in reason for reason in rejected)
    assert any("bad e-mail “not-an-email”" in reason for reason in rejected)
    assert any("no contact" in reason for reason in rejected)
    assert imp.planned == {
        "created": 997, "attached": 0, "suspected": 0, "skipped": 1, "rejected": 3,
    }  # fmt: skip
    assert imp.total_rows == 1001
    (duplicate,) = [v for v in outcomes.values() if v[0] == Outcome.SKIPPED]
    assert duplicate[1] == "duplicate of line 2 in this file"
    assert Lead.objects.count() == 0  # nothing is written before the confirmation


def test_a_known_person_is_attached_and_one_with_an_open_lead_is_skipped(world: World, checked):
    known = new_lead(study_site=world.study_site_a2).person
    busy = new_lead(study_site=world.study_site_a)
    data = (
        "first,last,phone,email\n"
        f"{known.first_name},{known.last_name},{known.phone},\n"
        f"{busy.person.first_name},{busy.person.last_name},,{busy.person.email}\n"
        "New,Person,(720) 555-0199,\n"
    ).encode()
    imp = checked(data)

    rows = list(CsvImportRow.objects.filter(csv_import=imp).order_by("line"))
    assert [r.outcome for r in rows] == [Outcome.ATTACHED, Outcome.SKIPPED, Outcome.CREATED]
    assert rows[0].matched_person_id == known.pk
    assert rows[1].reason == f"already has an open lead for this study (lead {busy.code})"
    assert rows[1].matched_lead_id == busy.pk


def test_an_import_writes_people_leads_timeline_and_audit_set_based(world: World, imported):
    imp = imported(_csv_1000_with_3_bad())

    assert imp.state == CsvImport.State.DONE
    assert (imp.created, imp.attached, imp.suspected, imp.skipped, imp.rejected) == (
        997, 0, 0, 1, 3,
    )  # fmt: skip
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
    rows = CsvImportRow.objects.filter(csv_import=imp)
    assert imp.written_through == rows.aggregate(last=Max("line"))["last"]  # every line written
    # Each row names what it wrote: its lead, for the person the lead is for.
    written = rows.filter(outcome=Outcome.CREATED)
    assert sorted(written.values_list("lead_id", flat=True)) == sorted(
        leads.values_list("pk", flat=True)
    )
    assert not written.filter(person__isnull=True).exists()


def test_every_row_is_in_exactly_one_download_with_its_line_and_reason_first(
    world: World, imported
):
    known = new_lead(study_site=world.study_site_a2).person
    data = (
        "name,phone,email,notes\n"
        "Ann Lee,(303) 555-0100,,ok\n"  # created
        f"{known.first_name} {known.last_name},{known.phone},,ok\n"  # attached
        "Bo Lee,(303) 555-0100,,same phone\n"  # suspected: Ann's household
        "Ann Lee,(303) 555-0100,,again\n"  # skipped: line 2 again
        "Cy\n"  # rejected, and short: one cell under four headers
        '=HYPERLINK("x"),12\n'  # rejected, with a formula
    ).encode()
    imp = imported(data)
    client = signed_in(world.site_lead.user)

    downloads = {outcome: _download(client, imp, outcome) for outcome in Outcome.values}
    for rows in downloads.values():
        assert rows[0] == ["line", "reason", "name", "phone", "email", "notes"]
    lines = {outcome: [int(r[0]) for r in rows[1:]] for outcome, rows in downloads.items()}
    assert lines == {"created": [2], "attached": [3], "suspected": [4], "skipped": [5],
                     "rejected": [6, 7]}  # fmt: skip
    rejected = downloads["rejected"]
    assert rejected[1][:3] == ["6", "no contact (needs a phone or an e-mail)", "Cy"]
    assert rejected[2][2] == '\'=HYPERLINK("x")'
    assert "bad phone" in rejected[2][1]
    assert downloads["skipped"][1][1] == "duplicate of line 2 in this file"
    assert f"known person {known.code}" in downloads["attached"][1][1]
    assert "line 2 of this file" in downloads["suspected"][1][1]
    unknown = reverse("import_rows", kwargs={"code": imp.code, "outcome": "everything"})
    assert client.get(unknown).status_code == 404


def test_people_who_share_a_phone_are_each_imported_and_flagged_not_skipped(world: World, imported):
    """A household: one phone for a family of four and a lodger known to the organization."""
    lodger = new_lead(study_site=world.study_site_a2).person
    Person.objects.filter(pk=lodger.pk).update(first_name="Rosa", last_name="Diaz")
    data = (
        "first,last,phone,dob\n"
        f"Maria,Lopez,{lodger.phone},1970-03-04\n"
        f"Jose,Lopez,{lodger.phone},1968-11-30\n"
        f"Ana,Lopez,{lodger.phone},2001-06-15\n"
        f"Maria,Lopez,{lodger.phone},1970-03-04\n"  # Maria again: the same person as line 2
        f"Maria,Lopez,{lodger.phone},1999-01-01\n"  # a daughter named after her mother
        f"Rosa,Diaz,{lodger.phone},\n"  # the lodger herself
        "Kim,Park,(720) 555-0000,1980-01-01\n"  # another household, not known yet
        "Kim,Park,(720) 555-0000,2010-01-01\n"
    ).encode()
    imp = imported(data)

    outcomes = _outcomes(imp)
    assert [outcomes[line][0] for line in range(2, 8)] == [
        Outcome.SUSPECTED, Outcome.SUSPECTED, Outcome.SUSPECTED, Outcome.SKIPPED,
        Outcome.SUSPECTED, Outcome.ATTACHED,
    ]  # fmt: skip
    assert outcomes[5][1] == "duplicate of line 2 in this file"
    assert f"person of another name (person {lodger.code})" in outcomes[6][1]
    assert outcomes[8] == (Outcome.CREATED, "no one with this phone or e-mail")
    assert outcomes[9] == (
        Outcome.SUSPECTED,
        "shares a phone or e-mail with a person born on another date (line 8 of this file): "
        "a new person, flagged for review",
    )
    people = Person.objects.filter(organization=world.org_a, phone=lodger.phone)
    assert people.count() == 5  # the lodger and four new people; Maria once
    assert (imp.created, imp.suspected, imp.attached, imp.skipped) == (1, 5, 1, 1)
    # Each new household member is flagged against a person, with the lead the row made.
    flags = list(SuspectedDuplicate.objects.filter(organization=world.org_a).select_related("lead"))
    assert len(flags) == 5
    assert all(flag.lead is not None and flag.lead.person_id == flag.person_id for flag in flags)
    kims = Person.objects.filter(first_name="Kim").order_by("date_of_birth")
    assert [(f.person, f.matched) for f in flags if f.person in kims] == [(kims[1], kims[0])]
    assert AuditEvent.objects.filter(action="person.suspected_duplicate").count() == 5


def test_a_value_longer_than_its_field_rejects_the_row_instead_of_being_cut(world: World, imported):
    data = (
        "first,last,phone\n"
        f"{'A' * 101},Lee,(303) 555-0100\n"
        f"{'B' * 100},Lee,(303) 555-0101\n"
        f"Cy,{'C' * 150},(303) 555-0102\n"
    ).encode()
    imp = imported(data)

    outcomes = _outcomes(imp)
    assert outcomes[2] == (Outcome.REJECTED, "first name longer than 100 characters (101)")
    assert outcomes[3][0] == Outcome.CREATED
    assert outcomes[4] == (Outcome.REJECTED, "last name longer than 100 characters (150)")
    assert list(Person.objects.values_list("first_name", flat=True)) == ["B" * 100]


def test_the_preview_pages_through_the_kept_rows_without_the_file(world: World, checked):
    lines = ["name,phone"] + [f"Pat{i} Lee,(303) 555-{i:04d}" for i in range(250)] + ["Cy,12"]
    imp = checked(("\n".join(lines) + "\n").encode())
    imp.file.delete(save=False)  # the web process never reads the file again
    client = signed_in(world.site_lead.user)
    url = reverse("import_detail", kwargs={"code": imp.code})

    first = client.get(url).content.decode()
    assert "<strong>250</strong> new people" in first
    assert "<strong>1</strong> rejected" in first
    assert "<td>101</td>" in first
    assert "<td>102</td>" not in first
    assert "?after=101" in first
    second = client.get(url, {"after": "101"}).content.decode()
    assert "<td>102</td>" in second
    assert "<td>201</td>" in second
    assert client.get(url, {"after": "9" * 30, "outcome": "nonsense"}).status_code == 200
    rejected = client.get(url, {"outcome": "rejected"}).content.decode()
    assert "<td>252</td>" in rejected
    assert "<td>2</td>" not in rejected


def test_the_preview_reads_a_constant_number_of_rows_and_queries(
    world: World, checked, django_assert_max_num_queries
):
    lines = ["name,phone"] + [f"Pat{i} Lee,(303) 555-{i:04d}" for i in range(1500)]
    imp = checked(("\n".join(lines) + "\n").encode())
    client = signed_in(world.site_lead.user)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("import_detail", kwargs={"code": imp.code}), {"after": "1400"})
    assert page.content.decode().count('class="outcome-created"') == 100


def test_changing_the_mapping_checks_the_rows_again_and_is_audited(
    world: World, checked, django_capture_on_commit_callbacks
):
    imp = checked(b"name,phone,other phone\nAnn Lee,12,(303) 555-0100\n")
    assert _outcomes(imp)[2][0] == Outcome.REJECTED
    actor = Actor(world.site_lead.user)
    with django_capture_on_commit_callbacks(execute=True):
        csv_import_set_mapping(
            imp=imp, columns={"full_name": 0, "phone": 2}, consent=[], actor=actor
        )
    imp.refresh_from_db()
    assert imp.state == CsvImport.State.ANALYZED
    assert _outcomes(imp) == {2: (Outcome.CREATED, "no one with this phone or e-mail")}
    assert AuditEvent.objects.filter(action="csv_import.mapped", object_id=str(imp.code)).exists()


def test_uploading_the_same_file_again_warns_and_needs_a_confirmation(
    world: World, imported, checked, django_capture_on_commit_callbacks
):
    client = signed_in(world.site_lead.user)
    data = b"name,phone\nAnn Lee,(303) 555-0100\n"
    imported(data)

    second = checked(data, name="same-again.csv")
    page = client.get(reverse("import_detail", kwargs={"code": second.code})).content.decode()
    assert "This exact file was imported before" in page

    client.post(reverse("import_start", kwargs={"code": second.code}), {"attested": "on"})
    second.refresh_from_db()
    assert second.state == CsvImport.State.ANALYZED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("import_start", kwargs={"code": second.code}), {"attested": "on", "again": "on"}
        )
    second.refresh_from_db()
    assert second.state == CsvImport.State.DONE
    assert second.skipped == 1  # the person already has an open lead
    assert Lead.objects.count() == 1


def test_an_import_needs_the_consent_attestation(world: World, checked):
    imp = checked(b"name,phone\nAnn Lee,(303) 555-0100\n")
    client = signed_in(world.site_lead.user)
    response = client.post(reverse("import_start", kwargs={"code": imp.code}), follow=True)
    assert "agreed to be contacted" in response.content.decode()
    imp.refresh_from_db()
    assert imp.state == CsvImport.State.ANALYZED


def test_an_import_cannot_start_before_its_rows_are_checked(world: World):
    client = signed_in(world.site_lead.user)
    _upload(client, world, b"name,phone\nAnn Lee,(303) 555-0100\n")  # the worker has not run
    imp = CsvImport.objects.get()
    assert imp.state == CsvImport.State.ANALYZING
    page = client.get(reverse("import_detail", kwargs={"code": imp.code})).content.decode()
    assert "Checking the rows" in page
    response = client.post(
        reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"}, follow=True
    )
    assert "still being checked" in response.content.decode()


def test_running_the_task_again_after_the_import_imports_nothing(world: World, imported):
    from leads.tasks import import_csv

    imp = imported(b"name,phone\nAnn Lee,(303) 555-0100\n")
    assert import_csv(imp.pk) == "not due"
    assert Lead.objects.count() == 1


def test_a_bad_upload_gets_a_message_next_to_the_file_field(world: World):
    client = signed_in(world.site_lead.user)
    response = _upload(client, world, "Nombre\nJosé\n".encode("latin-1"))
    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()
    assert not CsvImport.objects.exists()


def test_another_organizations_import_is_a_404_and_coordinators_may_not_import(
    world: World, checked
):
    imp = checked(b"name,phone\nAnn Lee,(303) 555-0100\n")
    outsider = signed_in(world.outsider.user)
    for name in ("import_detail", "import_progress", "import_original"):
        assert outsider.get(reverse(name, kwargs={"code": imp.code})).status_code == 404
    for outcome in Outcome.values:
        url = reverse("import_rows", kwargs={"code": imp.code, "outcome": outcome})
        assert outsider.get(url).status_code == 404
    for name in ("import_start", "import_retry"):
        assert outsider.post(reverse(name, kwargs={"code": imp.code})).status_code == 404
    coordinator = signed_in(world.coordinator.user)
    assert coordinator.get(reverse("import_list")).status_code == 403


def test_safe_cell_defuses_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert results.safe_cell(f"{start}1+1").startswith("'")
    assert results.safe_cell("Ann") == "Ann"


def test_imported_leads_are_spread_fairly_and_respect_capacity(world: World):
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
    world: World, imported
):
    """One construction path: a StudySite that is paused holds imported leads too, and each
    lead's audit event names that lead."""
    StudySite.objects.filter(pk=world.study_site_a.pk).update(recruitment_status="paused")
    imp = imported(b"name,phone\nAnn Lee,(303) 555-0100\nBo Ray,(303) 555-0101\n")

    leads = Lead.objects.filter(study_site=world.study_site_a)
    assert set(leads.values_list("blocker", flat=True)) == {"study_paused"}
    events = AuditEvent.objects.filter(action="lead.created", reason=f"CSV import {imp.code}")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(
        str(code) for code in leads.values_list("code", flat=True)
    )
    assert {e.actor_id for e in events} == {world.site_lead.user.pk}


def test_the_mapping_cannot_change_once_the_import_started(world: World, imported):
    imp = imported(b"name,phone\nAnn Lee,(303) 555-0100\n")
    with pytest.raises(ValidationError, match="already started"):
        csv_import_set_mapping(
            imp=imp, columns={"phone": 1}, consent=[], actor=Actor(world.site_lead.user)
        )


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

    assert (row.outcome, row.reason) == ("rejected", "control characters in the name")
    assert row.person == {}
    assert fine.outcome != "rejected"


def test_what_changed_between_the_check_and_the_start_is_weighed_before_writing(
    world: World, checked, django_capture_on_commit_callbacks
):
    known = new_lead(study_site=world.study_site_a2).person
    imp = checked(
        (
            "first,last,phone\n"
            "Ann,Lee,(303) 555-0100\n"  # created at the check; then she fills in the web form
            f"{known.first_name},{known.last_name},{known.phone}\n"  # attached at the check
            "Bo,Ray,(303) 555-0101\n"  # created at the check; then his brother fills it in
        ).encode()
    )
    assert _outcomes(imp)[2][0] == Outcome.CREATED
    ann = PersonFactory(organization=world.org_a, first_name="Ann", last_name="Lee",
                        phone="+13035550100")  # fmt: skip
    brother = PersonFactory(organization=world.org_a, first_name="Cy", last_name="Ray",
                            phone="+13035550101")  # fmt: skip
    new_lead(study_site=world.study_site_a, person=known)  # the known person applies too

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.site_lead.user).post(
            reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"}
        )

    outcomes = _outcomes(imp)
    assert outcomes[2] == (Outcome.ATTACHED, f"known person {ann.code}")
    assert outcomes[3][0] == Outcome.SKIPPED
    assert outcomes[3][1].startswith("already has an open lead for this study (lead ")
    assert outcomes[4][0] == Outcome.SUSPECTED
    assert f"person {brother.code}" in outcomes[4][1]
    assert Person.objects.filter(phone="+13035550100").count() == 1  # Ann once
    imp.refresh_from_db()
    assert (imp.created, imp.attached, imp.suspected, imp.skipped) == (0, 1, 1, 1)
    assert Lead.objects.filter(study_site=world.study_site_a, person=ann).count() == 1
    flag = SuspectedDuplicate.objects.get(matched=brother)
    assert flag.person.first_name == "Bo"


def test_a_written_person_has_every_field_the_file_gave_and_the_attested_consent(
    world: World, checked, django_capture_on_commit_callbacks
):
    data = (
        "First name,Last name,Phone,Email,DOB,Zip\n"
        "Ana,López García,(303) 555-0142,ana.lopez@example.org,1961-04-30,80218\n"
        "Bo,Chan,(720) 555-0199,,,\n"
    ).encode()
    imp = checked(data)
    columns = {"first_name": 0, "last_name": 1, "phone": 2, "email": 3, "date_of_birth": 4,
               "postal_code": 5}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        csv_import_set_mapping(
            imp=imp, columns=columns, consent=["phone", "email"], actor=Actor(world.site_lead.user)
        )
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.site_lead.user).post(
            reverse("import_start", kwargs={"code": imp.code}), {"attested": "on"}
        )
    imp.refresh_from_db()

    assert imp.state == CsvImport.State.DONE, imp.error
    ana = Person.objects.get(organization=world.org_a, first_name="Ana")
    assert (ana.last_name, ana.phone, ana.email, ana.postal_code) == (
        "López García", "+13035550142", "ana.lopez@example.org", "80218",
    )  # fmt: skip
    assert ana.date_of_birth == datetime.date(1961, 4, 30)
    assert ana.preferred_language == "en"
    assert (ana.consent_phone, ana.consent_sms, ana.consent_email) == (True, False, True)
    assert ana.consent_text_version == "vendor-attestation"
    assert ana.consent_given_at is not None
    bo = Person.objects.get(organization=world.org_a, first_name="Bo")
    assert (bo.email, bo.date_of_birth, bo.postal_code) == ("", None, "")
    row = CsvImportRow.objects.get(csv_import=imp, line=2)
    assert row.lead_id is not None
    assert Lead.objects.get(pk=row.lead_id).person_id == ana.pk == row.person_id
