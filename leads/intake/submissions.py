"""Interest as it arrives through a door (the web form, the API): kept, then made a lead.

One pipeline for every door. `submission_receive` saves the submission exactly as it arrived,
with its audit row, before anything that can fail for infrastructure reasons.
`submission_process` turns it into a lead (or repeat interest on one) from what was stored:
locked, safe to run twice, and a failure keeps the submission with its error for the retry
task (`leads.tasks.retry_submissions`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from leads.intake.core import IntakeResult, intake
from leads.intake.signals import submission_made_lead
from leads.models import ApiKey, Channel, Person, Source, Submission
from trialsnest.audit.services import Actor, audit_record
from trialsnest.studies.models import StudySite

logger = logging.getLogger(__name__)


@dataclass
class Processed:
    submission: Submission
    # What intake did now; None when the submission was processed before or failed again.
    result: IntakeResult | None


def submission_receive(
    *, channel: str, study_site: StudySite, payload: dict[str, Any], actor: Actor
) -> Submission:
    """Keep a submission as received, audited (its payload is PHI: named, never copied)."""
    with transaction.atomic():
        submission = Submission.objects.create(
            organization_id=study_site.organization_id,
            study_site=study_site,
            channel=channel,
            payload=payload,
        )
        audit_record(
            action="submission.received",
            actor=actor.user,
            organization_id=study_site.organization_id,
            obj=submission,
            changes={"payload": {"phi": True}, "channel": {"old": None, "new": channel}},
            request=actor.request,
        )
    return submission


def submission_process(
    *, submission_id: int, actor: Actor | None = None, keep_invalid: bool = True
) -> Processed | None:
    """Make the lead for a kept submission; None when there is no such submission.

    With `keep_invalid=False` a ValidationError about a field of the submission is raised to
    the caller (the API answers 422 and keeps nothing); any other failure is kept with the
    submission, unprocessed, for the retry task.
    """
    actor = actor or Actor(user=None)
    try:
        with transaction.atomic():
            submission = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("study_site__organization", "study_site__site")
                .filter(pk=submission_id)
                .first()
            )
            if submission is None:
                return None
            if submission.processed_at is not None:
                return Processed(submission, None)
            result = intake(
                study_site=submission.study_site,
                actor=actor,
                received_at=submission.received_at,
                **submission_arguments(submission),
            )
            submission.lead, submission.processed_at, submission.error = (
                result.lead,
                timezone.now(),
                "",
            )
            submission.save(update_fields=["lead", "processed_at", "error"])
            submission_made_lead.send(
                sender=Submission, submission=submission, lead=result.lead, actor=actor
            )
            return Processed(submission, result)
    except ValidationError as exc:
        if not keep_invalid and hasattr(exc, "error_dict"):
            raise
        _keep_error(submission_id, exc)
    except Exception as exc:  # kept for the retry task whatever went wrong
        _keep_error(submission_id, exc)
    kept = Submission.objects.filter(pk=submission_id).first()
    return Processed(kept, None) if kept is not None else None


def _keep_error(submission_id: int, exc: Exception) -> None:
    # The exception's text may quote what the person typed: only its type reaches the logs.
    logger.warning(
        "Intake of submission %s kept unprocessed for a retry (%s)",
        submission_id,
        type(exc).__name__,
    )
    try:
        Submission.objects.filter(pk=submission_id, processed_at__isnull=True).update(
            error=f"{type(exc).__name__}: {exc}"[:2000]
        )
    except DatabaseError:
        logger.warning("Could not record the error of submission %s", submission_id)


def submission_arguments(submission: Submission) -> dict[str, Any]:
    """What intake needs, read back from the payload each door stored (who, their consent,
    where they came from)."""
    payload = submission.payload
    person = {name: payload[name] for name in Person.CONTACT_FIELDS if payload.get(name)}
    if submission.channel == Submission.Channel.API:
        api_key = ApiKey.objects.get(code=payload["api_key"])
        return {
            "source": api_key.source,
            "person": person,
            "consent": dict(payload.get("consent") or {}),
            "consent_text_version": str(payload.get("consent_text_version") or ""),
            "attribution": {
                "referral_partner": api_key.referral_partner,
                "campaign": str(payload.get("campaign") or ""),
            },
            "material_code": str(payload.get("material_code") or ""),
            "api_key": api_key,
        }
    attribution = dict(payload.get("attribution") or {})
    campaign = attribution.pop("campaign", "") or attribution.get("utm_campaign", "")
    return {
        "source": Source.WEB_FORM,
        "person": {**person, "preferred_language": str(payload.get("language") or "")},
        "consent": {channel: channel in payload.get("consent", []) for channel in Channel.values},
        "consent_text_version": str(payload.get("consent_text_version") or ""),
        "attribution": {"campaign": str(campaign)[:200], "utm": attribution},
        "material_code": str(payload.get("material") or ""),
    }
