"""The CSV import runs in a worker; the page shows its progress."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from leads import csv_import
from leads.models import CsvImport
from trialsnest.audit.services import audit_record

logger = logging.getLogger(__name__)


@shared_task
def import_csv(import_id: int) -> str:
    """Safe to run twice: only a queued import is claimed, and it is written in one transaction."""
    claimed = CsvImport.objects.filter(pk=import_id, state=CsvImport.State.QUEUED).update(
        state=CsvImport.State.RUNNING, processed_rows=0
    )
    if not claimed:
        return "not queued"
    imp = CsvImport.objects.select_related("study_site__site", "uploaded_by").get(pk=import_id)
    try:
        run(imp)
    except Exception as exc:
        # The message names lines and columns, never cell values.
        logger.exception("CSV import %s failed", imp.code)
        CsvImport.objects.filter(pk=imp.pk).update(
            state=CsvImport.State.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        return "failed"
    return "done"


def run(imp: CsvImport) -> None:
    with imp.file.open("rb") as handle:
        text = csv_import.decode(handle.read())
    header, _ = csv_import.read_rows(text)
    columns = {k: int(v) for k, v in imp.mapping.get("columns", {}).items()}

    def progress(done: int) -> None:
        CsvImport.objects.filter(pk=imp.pk).update(processed_rows=done)

    rows = csv_import.analyze(text, columns, imp.study_site, progress=progress, keep_cells=False)
    del text
    counts = csv_import.summary(rows)
    with transaction.atomic():
        written = csv_import.write(
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
                ContentFile(csv_import.rejected_csv(header, rows).encode("utf-8")),
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
