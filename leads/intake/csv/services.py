"""The life of a CSV import: upload (the original file is kept), mapping, start, and the run
in a worker with its progress. Each step is audited."""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from leads.intake.csv.matching import analyze, summary
from leads.intake.csv.reader import decode, guess_mapping, read_rows, sha256
from leads.intake.csv.writer import rejected_csv, write
from leads.models import CsvImport
from trialsnest.audit.services import Actor, audit_record
from trialsnest.ops.outbox import enqueue
from trialsnest.studies.models import StudySite

logger = logging.getLogger(__name__)


def previous_imports(imp: CsvImport) -> list[CsvImport]:
    """Earlier imports of the very same file in the organization (to warn before a re-import)."""
    return list(
        CsvImport.objects.filter(organization_id=imp.organization_id, sha256=imp.sha256)
        .exclude(pk=imp.pk)
        .exclude(state=CsvImport.State.UPLOADED)
        .select_related("uploaded_by")
        .order_by("-created_at")
    )


def csv_import_upload(
    *,
    data: bytes,
    filename: str,
    study_site: StudySite,
    source: str,
    campaign: str,
    actor: Actor,
) -> CsvImport:
    """Keep the original file and guess the column mapping; nothing is imported yet."""
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
            mapping={"columns": guess_mapping(header), "consent": []},
        )
        imp.file.save(f"{uuid.uuid4()}.csv", ContentFile(data), save=False)
        imp.save()
        audit_record(
            action="csv_import.uploaded",
            actor=actor.user,
            organization_id=imp.organization_id,
            obj=imp,
            changes={"filename": {"old": None, "new": imp.filename}},
            request=actor.request,
        )
    return imp


@transaction.atomic
def csv_import_set_mapping(
    *, imp: CsvImport, columns: dict[str, int], consent: list[str], actor: Actor
) -> None:
    imp = CsvImport.objects.select_for_update().get(pk=imp.pk)
    if imp.state != CsvImport.State.UPLOADED:
        raise ValidationError("This import has already started.")
    before = dict(imp.mapping)
    imp.mapping = {"columns": columns, "consent": consent}
    imp.save(update_fields=["mapping"])
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
    """Queue the import; the worker runs it after this transaction commits."""
    imp = CsvImport.objects.select_for_update().get(pk=imp.pk)
    if imp.state != CsvImport.State.UPLOADED:
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
    imp.state = CsvImport.State.QUEUED
    imp.save(update_fields=["consent_attested", "state"])
    audit_record(
        action="csv_import.started",
        actor=actor.user,
        organization_id=imp.organization_id,
        obj=imp,
        request=actor.request,
    )
    enqueue("leads.tasks.import_csv", imp.pk)


def csv_import_run(*, import_id: int) -> str:
    """The worker's part. Safe to run twice: only a queued import is claimed, and its rows are
    written in one transaction. A failure marks the import failed with the reason."""
    claimed = CsvImport.objects.filter(pk=import_id, state=CsvImport.State.QUEUED).update(
        state=CsvImport.State.RUNNING, processed_rows=0
    )
    if not claimed:
        return "not queued"
    imp = CsvImport.objects.select_related("study_site__site", "uploaded_by").get(pk=import_id)
    try:
        _run(imp)
    except Exception as exc:
        # The message names lines and columns, never cell values.
        logger.exception("CSV import %s failed", imp.code)
        CsvImport.objects.filter(pk=imp.pk).update(
            state=CsvImport.State.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        return "failed"
    return "done"


def _run(imp: CsvImport) -> None:
    with imp.file.open("rb") as handle:
        text = decode(handle.read())
    header, _ = read_rows(text)
    columns = {k: int(v) for k, v in imp.mapping.get("columns", {}).items()}

    def progress(done: int) -> None:
        CsvImport.objects.filter(pk=imp.pk).update(processed_rows=done)

    rows = analyze(text, columns, imp.study_site, progress=progress, keep_cells=False)
    del text
    counts = summary(rows)
    with transaction.atomic(durable=True):
        written = write(
            rows=rows,
            study_site=imp.study_site,
            source=imp.source,
            campaign=imp.campaign,
            consent=list(imp.mapping.get("consent", [])),
            actor_id=imp.uploaded_by_id,
            import_code=str(imp.code),
        )
        if counts["reject"]:
            imp.rejected_file.save(
                f"rejected-{imp.code}.csv",
                ContentFile(rejected_csv(header, rows).encode("utf-8")),
                save=False,
            )
        imp.state = CsvImport.State.DONE
        imp.total_rows = imp.processed_rows = len(rows)
        imp.created, imp.attached = written["created"], written["attached"]
        imp.skipped, imp.rejected = counts["skip"], counts["reject"]
        imp.finished_at = timezone.now()
        imp.save()
        audit_record(
            action="csv_import.completed",
            actor=imp.uploaded_by,
            organization_id=imp.organization_id,
            obj=imp,
            changes={
                name: {"old": None, "new": getattr(imp, name)}
                for name in ("total_rows", "created", "attached", "skipped", "rejected")
            },
        )
