"""A questionnaire version imported from a FHIR R4 Questionnaire: a new draft for a person to
review and publish (nothing imported is asked before that)."""

from __future__ import annotations

from django.db import transaction

from prescreen.fhir import fhir_to_questions
from prescreen.models import QuestionnaireVersion
from prescreen.services.questionnaires import questions_add, version_draft
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite


@transaction.atomic
def version_import_fhir(
    *, study_site: StudySite, raw: bytes | str, filename: str, actor: Actor
) -> QuestionnaireVersion:
    """The file's questions as the StudySite's draft (which must have no questions yet)."""
    drafts = fhir_to_questions(raw)
    origin = f"FHIR import {filename}".strip()
    version = version_draft(study_site=study_site, actor=actor, origin=origin, empty=True)
    questions_add(version=version, drafts=drafts, actor=actor)
    return version
