"""Asking a lead the prescreen: answers saved as they come, scored, confirmed by a person.

Answers are PHI: every write here has its audit row (naming, never copying, the answers) in the
same transaction. The lead moves through the leads app's own services, so its invariant (a next
action while open, a reason when closed) and its timeline hold as for any other move.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import Blocker, CloseReason, Lead, Status
from leads.services import lead_change_status, lead_set_blocker
from leads.services.locking import lead_lock
from prescreen.models import (
    Answer,
    Outcome,
    PrescreenResponse,
    Question,
    QuestionnaireVersion,
    ResponseChannel,
    ResponseStatus,
)
from prescreen.scoring import AnswerValue, is_answered, score
from prescreen.selectors import answers_of, open_response, published_version, questions_of, specs_of
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import LINE_MAX, check_text
from trialsnest.studies.models import RecruitmentStatus

# Where a confirmed outcome takes the lead (DESIGN.md's status table); its next action is the
# status's default: request records, review the prescreen, or none (closed as not a fit).
LEAD_STATUS_FOR: dict[str, str] = {
    Outcome.LIKELY_FIT: Status.RECORDS_PENDING,
    Outcome.NEEDS_REVIEW: Status.NEEDS_REVIEW,
    Outcome.NOT_A_FIT: Status.CLOSED,
}
# The statuses in which a lead may be prescreened.
PRESCREENABLE = (Status.NEW, Status.CONTACTING, Status.PRESCREENING, Status.NEEDS_REVIEW)


def _audit(action: str, response: PrescreenResponse, actor: Actor, **changes: object) -> None:
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=response.organization_id,
        obj=response,
        changes={"answers": {"phi": True}, **{k: {"new": v} for k, v in changes.items()}},
        request=actor.request,
    )


def response_new(
    *,
    lead: Lead,
    version: QuestionnaireVersion,
    channel: str,
    answers: Mapping[str, AnswerValue | None],
    actor: Actor,
    now: datetime | None = None,
) -> PrescreenResponse:
    """A response in progress with its first answers (by question code)."""
    response = _response_of(lead, version, channel, now or timezone.now())
    response.save()
    _write_answers(response, list(version.questions.only("id", "code")), answers)
    _audit("prescreen.response_started", response, actor, channel=channel)
    return response


def _response_of(
    lead: Lead, version: QuestionnaireVersion, channel: str, now: datetime
) -> PrescreenResponse:
    return PrescreenResponse(
        organization_id=lead.organization_id,
        lead=lead,
        version=version,
        channel=channel,
        started_at=now,
        updated_at=now,
    )


def _write_answers(
    response: PrescreenResponse,
    questions: list[Question],
    answers: Mapping[str, AnswerValue | None],
) -> dict[str, AnswerValue]:
    """Upsert what was answered, delete what was cleared: two statements whatever the count.
    Returns what was answered, by question code."""
    by_code = {str(q.code): q for q in questions}
    given = {code: value for code, value in answers.items() if code in by_code}
    answered = {code: v for code, v in given.items() if v is not None and is_answered(v)}
    cleared = [by_code[code].pk for code in given if code not in answered]
    Answer.objects.bulk_create(
        [Answer(response=response, question=by_code[c], value=v) for c, v in answered.items()],
        update_conflicts=True,
        unique_fields=["response", "question"],
        update_fields=["value"],
    )
    if cleared:
        response.answers.filter(question_id__in=cleared).delete()
    return answered


def _move_lead(lead: Lead, status: str, actor: Actor, reason: str, close_reason: str = "") -> Lead:
    """Move a lead this transaction locked (lead_lock) and has not changed."""
    if lead.status == status:
        return lead
    return lead_change_status(
        lead=lead, status=status, actor=actor, reason=reason, close_reason=close_reason,
        locked=True,
    )  # fmt: skip


@transaction.atomic
def response_save(
    *,
    lead: Lead,
    answers: Mapping[str, AnswerValue | None],
    actor: Actor,
    submit: bool = False,
) -> PrescreenResponse:
    """Keep the answers given so far (by question code); with `submit`, score them for the
    coordinator to confirm. The first save moves a new or contacting lead to prescreening."""
    lead = lead_lock(lead, None)
    if lead.status not in PRESCREENABLE:
        raise ValidationError(
            f"A lead that is {lead.get_status_display().lower()} is not prescreened."
        )
    now = timezone.now()
    # Locked: a confirmation of the same response waits for this save, or this save for it.
    response = open_response(lead.pk, lock=True)
    started = response is None
    if response is None:
        version = published_version(lead.study_site_id)
        if version is None:
            raise ValidationError("This study has no published prescreen yet.")
        response = _response_of(lead, version, ResponseChannel.COORDINATOR, now)
    questions = questions_of(response.version)
    if started:
        response.save()
    answered = _write_answers(response, questions, answers)
    if lead.status != Status.PRESCREENING:
        _move_lead(lead, Status.PRESCREENING, actor, "Prescreen started")
    response.updated_at = now
    if submit:
        # A response begun by this save holds exactly what it answered: no need to read it back.
        result = score(specs_of(questions), answered if started else answers_of(response))
        response.status, response.submitted_at = ResponseStatus.SUBMITTED, now
        response.computed_outcome = result.outcome
        response.fired = [f.as_json() for f in result.fired]
    else:
        response.status = ResponseStatus.IN_PROGRESS
    response.save()
    _audit(
        "prescreen.response_submitted" if submit else "prescreen.answers_saved",
        response,
        actor,
        computed_outcome=response.computed_outcome if submit else None,
    )
    return response


@transaction.atomic
def response_confirm(
    *, response: PrescreenResponse, outcome: str, reason: str, actor: Actor
) -> PrescreenResponse:
    """A person confirms the computed outcome, or records another with a reason; the lead moves
    on: likely fit to records, needs review to the study team, not a fit closed."""
    response = PrescreenResponse.objects.select_for_update().get(pk=response.pk)
    if response.status != ResponseStatus.SUBMITTED:
        raise ValidationError("Submit the answers before confirming the result.")
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Pick the result to record."})
    reason = check_text(reason.strip(), field="reason", max_length=LINE_MAX)
    if outcome != response.computed_outcome and not reason:
        raise ValidationError({"reason": "Say why the result differs from the computed one."})
    lead = lead_lock(Lead(pk=response.lead_id), None)
    if lead.status not in (Status.PRESCREENING, Status.NEEDS_REVIEW):
        raise ValidationError(
            f"The lead moved on ({lead.get_status_display().lower()}) since this prescreen began."
        )
    label = Outcome(outcome).label.lower()
    if outcome == response.computed_outcome:
        note = f"Prescreen: {label}, confirmed"
    else:
        computed = Outcome(response.computed_outcome).label.lower()
        note = f"Prescreen: {label} (computed {computed}): {reason}"
    status = LEAD_STATUS_FOR[outcome]
    close_reason = CloseReason.NOT_A_FIT if status == Status.CLOSED else ""
    lead = _move_lead(lead, status, actor, note[:LINE_MAX], close_reason)
    paused = lead.study_site.recruitment_status != RecruitmentStatus.RECRUITING
    if status == Status.NEEDS_REVIEW and not paused and lead.blocker != Blocker.AWAITING_REVIEW:
        lead_set_blocker(lead=lead, blocker=Blocker.AWAITING_REVIEW, actor=actor)
    now = timezone.now()
    response.status, response.outcome, response.override_reason = (
        ResponseStatus.CONFIRMED,
        outcome,
        reason if outcome != response.computed_outcome else "",
    )
    response.confirmed_at, response.confirmed_by, response.updated_at = now, actor.user, now
    response.save()
    _audit(
        "prescreen.response_confirmed",
        response,
        actor,
        outcome=outcome,
        computed_outcome=response.computed_outcome,
    )
    return response


@transaction.atomic
def response_review(
    *, response: PrescreenResponse, outcome: str, note: str, actor: Actor
) -> PrescreenResponse:
    """The study team looked at a prescreen that needed review: likely fit moves the lead to
    records, not a fit closes it as not a fit. The note says what they decided and why."""
    response = PrescreenResponse.objects.select_for_update().get(pk=response.pk)
    if response.status != ResponseStatus.CONFIRMED or response.outcome != Outcome.NEEDS_REVIEW:
        raise ValidationError("Only a prescreen recorded as needs review awaits the study team.")
    if response.review_outcome:
        raise ValidationError("The study team's review of this prescreen is already recorded.")
    if outcome not in (Outcome.LIKELY_FIT, Outcome.NOT_A_FIT):
        raise ValidationError({"outcome": "Pick what the study team decided."})
    note = check_text(note.strip(), field="note", max_length=LINE_MAX)
    if not note:
        raise ValidationError({"note": "Say what the study team decided, and who."})
    lead = lead_lock(Lead(pk=response.lead_id), None)
    if lead.status != Status.NEEDS_REVIEW:
        raise ValidationError(
            f"The lead moved on ({lead.get_status_display().lower()}) since the prescreen."
        )
    status = LEAD_STATUS_FOR[outcome]
    close_reason = CloseReason.NOT_A_FIT if status == Status.CLOSED else ""
    label = Outcome(outcome).label.lower()
    _move_lead(lead, status, actor, f"Study-team review: {label}: {note}"[:LINE_MAX], close_reason)
    response.review_outcome, response.review_note = outcome, note
    response.reviewed_at, response.reviewed_by = timezone.now(), actor.user
    response.save(update_fields=["review_outcome", "review_note", "reviewed_at", "reviewed_by"])
    _audit("prescreen.response_reviewed", response, actor, review_outcome=outcome)
    return response
