"""The steps a person takes in a CSV import: upload (the original file is kept), mapping,
start, retry. Each is audited and hands the work to a worker (leads.intake.csv.runner)."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from leads.intake.csv.reader import decode, guess_mapping, read_rows, sha256
from leads.intake.csv.runner import TASK, lease
from leads.models import CsvImport
from trialsnest.audit.services import Actor, audit_record
from trialsnest.ops.outbox import enqueue
from trialsnest.studies.models import StudySite


def previous_imports(imp: CsvImport) -> list[CsvImport]:
    """Earlier imports of the very same file in the organization (to warn before a re-import)."""
    return list(
        CsvImport.objects.filter(
            organization_id=imp.organization_id, sha256=imp.sha256, consent_attested=True
        )
        .exclude(pk=imp.pk)
        .select_related("uploaded_by")
        .order_by("-created_at")
    )


def _save_and_queue(imp: CsvImport) -> None:
    """Save the import and hand it to a worker after commit. Until the lease below runs out,
    any worker may claim it; after, the beat task queues it again (the message may be lost)."""
    imp.attempts, imp.lease_owner = 0, None
    imp.lease_until = timezone.now() + lease()
    imp.save()
    enqueue(TASK, imp.pk)


def csv_import_upload(
    *,
    data: bytes,
    filename: str,
    study_site: StudySite,
    source: str,
    campaign: str,
    actor: Actor,
) -> CsvImport:
    """Keep the original file, guess the column mapping and have a worker check every row;
    nothing is imported yet."""
    text = decode(data)
    header, _ = read_rows(text)
    assert actor.user is not None
    with transaction.atomic(durable=True):
        imp = CsvImport(
            organization_id=study_site.organization_id,
            study_site=study_site,
            source=source,
            campaign=campaign[:200],
            uploaded_by=actor.user,
            filename=filename[:255],
            sha256=sha256(data),
            header=header,
            mapping={"columns": guess_mapping(header), "consent": []},
            state=CsvImport.State.ANALYZING,
        )
        imp.file.save(f"{uuid.uuid4()}.csv", ContentFile(data), save=False)
        _save_and_queue(imp)
        audit_record(
            action="csv_import.uploaded",
            actor=actor.user,
            organization_id=imp.organization_id,
            obj=imp,
            changes={"filename": {"old": None, "new": imp.filename}},
            request=actor.request,
        )
    return imp


# Before the start: the mapping may change, and the rows are checked again.
CHECKING = (CsvImport.State.ANALYZING, CsvImport.State.ANALYZED)


@transaction.atomic
def csv_import_set_mapping(
    *, imp: CsvImport, columns: dict[str, int], consent: list[str], actor: Actor
) -> None:
    """A new mapping: the rows are checked again (a worker still checking the old one stops)."""
    imp = CsvImport.objects.select_for_update().get(pk=imp.pk)
    if imp.state not in CHECKING:
        raise ValidationError("This import has already started.")
    mapping = {"columns": columns, "consent": consent}
    if mapping == imp.mapping:
        return
    before = dict(imp.mapping)
    imp.mapping = mapping
    imp.state, imp.analyzed_at, imp.planned = CsvImport.State.ANALYZING, None, {}
    imp.processed_rows = imp.total_rows = 0
    _save_and_queue(imp)
    audit_record(
        action="csv_import.mapped",
        actor=actor.user,
        organization_id=imp.organization_id,
        obj=imp,
        changes={"mapping": {"old": before, "new": imp.mapping}},
        request=actor.request,
    )


@transaction.atomic
def csv_import_start(*, imp: CsvImport, attested: bool, again: bool, actor: Actor) -> None:
    """Queue the writing of the checked rows; a worker starts after this transaction commits."""
    imp = CsvImport.objects.select_for_update().get(pk=imp.pk)
    if imp.state == CsvImport.State.ANALYZING:
        raise ValidationError("The rows are still being checked: start once the preview is ready.")
    if imp.state != CsvImport.State.ANALYZED:
        raise ValidationError("This import has already started.")
    if not attested:
        raise ValidationError(
            {"attested": "Confirm that the people in this list agreed to be contacted."}
        )
    if previous_imports(imp) and not again:
        raise ValidationError(
            {"again": "This file was imported before: confirm to import it again."}
        )
    columns = imp.mapping.get("columns", {})
    if "phone" not in columns and "email" not in columns:
        raise ValidationError("Map a phone or an e-mail column first.")
    imp.consent_attested = True
    imp.state, imp.processed_rows = CsvImport.State.QUEUED, 0
    _save_and_queue(imp)
    audit_record(
        action="csv_import.started",
        actor=actor.user,
        organization_id=imp.organization_id,
        obj=imp,
        request=actor.request,
    )


@transaction.atomic
def csv_import_retry(*, imp: CsvImport, actor: Actor) -> None:
    """Another go at a failed import: its check from the top, or its writing from the last
    committed chunk (nothing written is written again)."""
    imp = CsvImport.objects.select_for_update().get(pk=imp.pk)
    if imp.state != CsvImport.State.FAILED:
        raise ValidationError("Only a failed import can be retried.")
    error = imp.error
    imp.state = CsvImport.State.QUEUED if imp.consent_attested else CsvImport.State.ANALYZING
    imp.error, imp.finished_at = "", None
    _save_and_queue(imp)
    audit_record(
        action="csv_import.retried",
        actor=actor.user,
        organization_id=imp.organization_id,
        obj=imp,
        changes={"state": {"old": CsvImport.State.FAILED, "new": imp.state}},
        reason=error[:200],
        request=actor.request,
    )
