"""Creating leads and moving them through the status machine (DESIGN.md's status table).

Lead-changing services take the `version` the user saw (see locking); each one is atomic,
audited in the same transaction and leaves the lead with a next action while it is open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import (
    BLOCKER_TEXT_MAX,
    DEFAULT_ACTION,
    MILESTONE,
    OPEN_STATUSES,
    TRANSITIONS,
    ActionKind,
    Activity,
    ActivityKind,
    Blocker,
    CloseReason,
    Lead,
    Person,
    Status,
)
from leads.services.assignment import choose_owner, mark_assigned
from leads.services.locking import lead_lock, lead_save, lead_snapshot
from leads.services.policies import policy_for, refresh_attention, sla_deadline
from leads.services.timeline import activity_add
from leads.signals import lead_status_changed
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.lib.text import LINE_MAX, NOTE_MAX, check_text
from trialsnest.studies.models import RecruitmentStatus, StudySite
from trialsnest.tenancy.models import Membership


def check_due_time(moment: datetime) -> None:
    """Due times stay within five years of now: a typo such as year 9999 is refused."""
    now = timezone.now()
    if not now - timedelta(days=5 * 365) <= moment <= now + timedelta(days=5 * 365):
        raise ValidationError("Pick a time within five years from now.")


def lead_build(
    *,
    study_site: StudySite,
    source: str,
    owner: Membership | None,
    now: datetime,
    person: Person | None = None,
    **attribution: Any,
) -> Lead:
    """A new lead, not yet saved: status new, first contact due now, its SLA and queue times
    computed, held when the StudySite is not recruiting. The one way a lead is made (single
    intake saves it; a CSV import copies its values for every row)."""
    lead = Lead(
        organization_id=study_site.organization_id,
        person=person,
        study_site=study_site,
        source=source,
        owner=owner,
        status=Status.NEW,
        next_action=ActionKind.FIRST_CONTACT,
        next_action_due_at=now,
        received_at=now,
        last_movement_at=now,
        status_changed_at=now,
        **attribution,
    )
    policy = policy_for(study_site)
    lead.sla_due_at = sla_deadline(lead, policy, now)
    if study_site.recruitment_status != RecruitmentStatus.RECRUITING:
        lead.blocker = Blocker.STUDY_PAUSED
    refresh_attention(lead, policy)
    return lead


@transaction.atomic
def lead_create(
    *,
    person: Person,
    study_site: StudySite,
    source: str,
    actor: Actor,
    received_at: datetime | None = None,
    owner: Membership | None = None,
    **attribution: Any,
) -> Lead:
    """A new lead: owned, status new, first contact due now (the cadence's first attempt)."""
    if person.organization_id != study_site.organization_id:
        raise ValidationError("The person and the study belong to different organizations.")
    now = received_at or timezone.now()
    owner = owner or choose_owner(study_site)
    lead = lead_build(
        study_site=study_site, source=source, owner=owner, now=now, person=person, **attribution
    )
    lead.full_clean(exclude=["person", "study_site", "owner", "organization"])
    lead.save()
    mark_assigned([owner], now)
    activity_add(lead, ActivityKind.RECEIVED, actor, now, data={"source": source})
    activity_add(lead, ActivityKind.ASSIGNMENT, actor, now, data={"owner": str(owner.code)})
    audit_record(
        action="lead.created",
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes=changed_fields(old={}, new=lead_snapshot(lead)),
        request=actor.request,
    )
    return lead


@transaction.atomic
def lead_set_next_action(
    *,
    lead: Lead,
    kind: str,
    due_at: datetime,
    actor: Actor,
    version: int | None = None,
    note: str = "",
) -> Lead:
    check_text(note, field="note", max_length=LINE_MAX)
    lead = lead_lock(lead, version)
    if not lead.is_open:
        raise ValidationError("A closed lead has no next action.")
    if kind not in ActionKind.values:
        raise ValidationError({"kind": "Pick a next action."})
    check_due_time(due_at)
    before = lead_snapshot(lead)
    lead.next_action, lead.next_action_due_at = kind, due_at
    lead.snoozed_until = None  # a new plan for the lead ends a snooze
    lead_save(lead, before, actor, "lead.next_action_set")
    activity_add(
        lead,
        ActivityKind.NEXT_ACTION,
        actor,
        timezone.now(),
        text=note,
        data={"kind": kind, "due_at": due_at.isoformat()},
    )
    return lead


@transaction.atomic
def lead_snooze(*, lead: Lead, until: datetime, actor: Actor, version: int | None = None) -> Lead:
    """Out of the queue's Due now and Stale tabs until `until`. The next action and its due
    time stay as they are (they are still true); the timeline says who snoozed, until when."""
    now = timezone.now()
    if until <= now:
        raise ValidationError({"until": "Snooze until a time in the future."})
    check_due_time(until)
    lead = lead_lock(lead, version)
    if not lead.is_open:
        raise ValidationError("Only an open lead can be snoozed.")
    before = lead_snapshot(lead)
    lead.snoozed_until = until
    lead_save(lead, before, actor, "lead.snoozed")
    activity_add(lead, ActivityKind.SNOOZE, actor, now, data={"until": until.isoformat()})
    return lead


@transaction.atomic
def lead_add_note(*, lead: Lead, text: str, actor: Actor) -> Activity:
    """Notes never conflict: they add to the timeline without changing the lead."""
    text = check_text(text.strip(), field="text", max_length=NOTE_MAX, multiline=True)
    if not text:
        raise ValidationError({"text": "Write the note first."})
    lead = lead_lock(lead, None)
    audit_record(
        action="lead.note_added",
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes={"note": {"phi": True}},
        request=actor.request,
    )
    return activity_add(lead, ActivityKind.NOTE, actor, timezone.now(), text=text)


@transaction.atomic
def lead_set_blocker(
    *, lead: Lead, blocker: str, actor: Actor, text: str = "", version: int | None = None
) -> Lead:
    check_text(text.strip(), field="blocker_text", max_length=BLOCKER_TEXT_MAX)
    lead = lead_lock(lead, version)
    if blocker and blocker not in Blocker.values:
        raise ValidationError({"blocker": "Pick a blocker."})
    if blocker == Blocker.OTHER and not text.strip():
        raise ValidationError({"blocker_text": "Say what blocks this lead."})
    paused = lead.study_site.recruitment_status != RecruitmentStatus.RECRUITING
    if paused and blocker != Blocker.STUDY_PAUSED:
        raise ValidationError(
            {"blocker": "The study is paused: its leads stay on hold until recruiting resumes."}
        )
    if not paused and blocker == Blocker.STUDY_PAUSED and lead.blocker != blocker:
        raise ValidationError(
            {"blocker": "“Study paused” is set when the study is paused in its settings."}
        )
    before = lead_snapshot(lead)
    lead.blocker, lead.blocker_text = blocker, text.strip() if blocker == Blocker.OTHER else ""
    lead_save(lead, before, actor, "lead.blocker_set")
    activity_add(lead, ActivityKind.BLOCKER, actor, timezone.now(), data={"blocker": blocker})
    return lead


def transition_refused(current: str, status: str) -> str:
    """Why a lead that is `current` cannot move to `status` (DESIGN.md's status table)."""
    allowed = ", ".join(Status(s).label for s in TRANSITIONS[current]) or "none"
    wanted = Status(status).label.lower() if status in Status.values else repr(status)
    now = Status(current).label.lower()
    return f"A lead that is {now} cannot move to {wanted}. Allowed: {allowed}."


@transaction.atomic
def lead_change_status(
    *,
    lead: Lead,
    status: str,
    actor: Actor,
    reason: str = "",
    close_reason: str = "",
    next_action: str = "",
    due_at: datetime | None = None,
    version: int | None = None,
    locked: bool = False,
) -> Lead:
    """Move the lead. `locked`: `lead` is the row the caller locked with lead_lock in this
    transaction and has not changed since (spares reading it again)."""
    lead = lead if locked else lead_lock(lead, version)
    if status not in TRANSITIONS[lead.status]:
        raise ValidationError({"status": transition_refused(lead.status, status)})
    reason = check_text(reason.strip(), field="reason", max_length=LINE_MAX)
    if status == Status.CLOSED and close_reason not in CloseReason.values:
        raise ValidationError({"close_reason": "Say why the lead is closed."})
    if lead.status == Status.CLOSED and not reason:
        raise ValidationError({"reason": "Say why the lead is reopened."})
    if due_at is not None:
        check_due_time(due_at)
    now, before = timezone.now(), lead_snapshot(lead)
    from_status = lead.status
    lead.status, lead.status_changed_at, lead.last_movement_at = status, now, now
    lead.snoozed_until = None
    if field := MILESTONE.get(status):
        setattr(lead, field, now)
    lead.close_reason = close_reason if status == Status.CLOSED else ""
    if status in OPEN_STATUSES:
        lead.closed_at = None
        if lead.study_site.recruitment_status != RecruitmentStatus.RECRUITING:
            lead.blocker, lead.blocker_text = Blocker.STUDY_PAUSED, ""
        elif lead.blocker != Blocker.STUDY_PAUSED:
            lead.blocker, lead.blocker_text = "", ""
        lead.next_action = next_action or DEFAULT_ACTION[status]
        lead.next_action_due_at = due_at or now
        lead.sla_due_at = sla_deadline(lead, policy_for(lead.study_site), now)
        if lead.owner is None or not lead.owner.is_active:
            lead.owner = choose_owner(lead.study_site)
    lead_save(lead, before, actor, "lead.status_changed", reason=reason)
    activity_add(
        lead,
        ActivityKind.STATUS_CHANGE,
        actor,
        now,
        text=reason,
        data={"from": from_status, "to": status, "close_reason": lead.close_reason},
    )
    lead_status_changed.send(sender=Lead, lead=lead, from_status=from_status, actor=actor)
    return lead
