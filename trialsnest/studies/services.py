"""Writes to the shared study catalog, audited: what a file adds, and what an operator changes.

The catalog is shared by every organization, so an organization may only add studies to it: a
ClinicalTrials.gov record already there changes only from ClinicalTrials.gov data, through the
operator's `import_ctgov` command. An organization's own wording lives on its StudySite.
"""

from __future__ import annotations

from django.db import transaction

from trialsnest.audit.services import Actor, audit_record
from trialsnest.studies.ctgov import ImportResult, StudyRecord, import_records


@transaction.atomic
def studies_import(*, records: list[StudyRecord], source: str, actor: Actor) -> ImportResult:
    """The operator's import: insert or update catalog studies by NCT id, with one audit event
    naming the file, what was created and which fields of which study changed. A failure
    imports nothing."""
    result = import_records(records, update_existing=True)
    _audit(result, source=source, actor=actor, organization_id=None)
    return result


@transaction.atomic
def studies_add(
    *, records: list[StudyRecord], source: str, actor: Actor, organization_id: int
) -> ImportResult:
    """An organization's upload: add the studies not yet in the catalog and leave every study
    already there as it is (`kept`), since other organizations may recruit for it."""
    result = import_records(records, update_existing=False)
    _audit(result, source=source, actor=actor, organization_id=organization_id)
    return result


def _audit(result: ImportResult, *, source: str, actor: Actor, organization_id: int | None) -> None:
    audit_record(
        action="studies.imported",
        actor=actor.user,
        organization_id=organization_id,
        object_type="study",
        changes={
            "file": source,
            "created": result.created,
            "updated": result.updated,
            "kept": result.kept,
            "changed_fields": result.changed,
        },
        request=actor.request,
    )
