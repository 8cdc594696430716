"""Writes to the shared study catalog, audited: what a file or an admin adds or changes."""

from __future__ import annotations

from django.db import transaction

from trialsnest.audit.services import Actor, audit_record
from trialsnest.studies.ctgov import ImportResult, StudyRecord, import_records


@transaction.atomic
def studies_import(
    *,
    records: list[StudyRecord],
    source: str,
    actor: Actor,
    organization_id: int | None = None,
) -> ImportResult:
    """Insert or update catalog studies from ClinicalTrials.gov records (by NCT id), with one
    audit event naming the file and what changed. A failure imports nothing."""
    result = import_records(records)
    audit_record(
        action="studies.imported",
        actor=actor.user,
        organization_id=organization_id,
        object_type="study",
        changes={"file": source, "created": result.created, "updated": result.updated},
        request=actor.request,
    )
    return result
