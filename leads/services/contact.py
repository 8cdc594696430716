"""Contact attempts, and the StudySite's cadence that decides when the next one is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import ActionKind, ActivityKind, Blocker, Channel, Lead, Outcome, Status
from leads.services.leads import check_due_time
from leads.services.locking import lead_lock, lead_save, lead_snapshot
from leads.services.people import opted_out_of
from leads.services.policies import policy_for, sla_deadline
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor
from trialsnest.lib.text import NOTE_MAX, check_text


class OptOutWarning(Exception):
    """Logging this contact needs confirmation: the person opted out of the channel."""


@transaction.atomic
def lead_log_attempt(
    *,
    lead: Lead,
    channel: str,
    outcome: str,
    actor: Actor,
    direction: str = "outbound",
    note: str = "",
    callback_at: datetime | None = None,
    version: int | None = None,
    confirm_opt_out: bool = False,
) -> Lead:
    """Log a contact attempt and move the cadence on.

    Reached: first contact is recorded and the lead moves to contacting (from new); the next
    action becomes conducting the prescreen. Not reached: the next attempt is due by the
    StudySite's cadence; after the last one, "close as unreachable" is due when the final
    waiting period ends.
    """
    check_text(note.strip(), field="note", max_length=NOTE_MAX, multiline=True)
    lead = lead_lock(lead, version)
    if not lead.is_open:
        raise ValidationError("Reopen the lead before logging contact.")
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick a channel."})
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Pick an outcome."})
    if not confirm_opt_out and opted_out_of(lead.person, channel):
        raise OptOutWarning(
            f"{lead.person.full_name} opted out of {Channel(channel).label.lower()} contact."
        )
    now, before = timezone.now(), lead_snapshot(lead)
    policy = policy_for(lead.study_site)
    lead.last_movement_at = now
    lead.snoozed_until = None  # contact is movement: the lead is back in the queue's attention
    if outcome == Outcome.REACHED:
        lead.first_contact_at = lead.first_contact_at or now
        lead.attempts = 0
        if lead.status == Status.NEW:
            lead.status, lead.status_changed_at = Status.CONTACTING, now
        if lead.blocker in (Blocker.NO_RESPONSE, Blocker.AWAITING_CALLBACK):
            lead.blocker = ""
        if lead.status == Status.CONTACTING:
            lead.next_action, lead.next_action_due_at = ActionKind.CONDUCT_PRESCREEN, now
    elif outcome == Outcome.CALL_BACK_LATER:
        if callback_at is not None:
            check_due_time(callback_at)
        # They picked up and asked for another time: that is a first contact.
        lead.first_contact_at = lead.first_contact_at or now
        if lead.status == Status.NEW:
            lead.status, lead.status_changed_at = Status.CONTACTING, now
        lead.blocker = Blocker.AWAITING_CALLBACK
        lead.next_action = ActionKind.CALLBACK
        lead.next_action_due_at = callback_at or now + timedelta(days=1)
    else:
        lead.attempts += 1
        cadence = list(policy.cadence_hours) or [0]
        if lead.status == Status.NEW:
            lead.status, lead.status_changed_at = Status.CONTACTING, now
        if outcome == Outcome.WRONG_NUMBER:
            lead.blocker, lead.blocker_text = Blocker.OTHER, "Wrong number"
        elif not lead.blocker:
            lead.blocker = Blocker.NO_RESPONSE
        if lead.attempts < len(cadence):
            gap = cadence[lead.attempts] - cadence[lead.attempts - 1]
            lead.next_action = ActionKind.FOLLOW_UP
            lead.next_action_due_at = now + timedelta(hours=max(gap, 0))
        else:
            lead.next_action = ActionKind.CLOSE_UNREACHABLE
            lead.next_action_due_at = now + timedelta(hours=policy.final_wait_hours)
    if lead.status != before["status"]:
        lead.sla_due_at = sla_deadline(lead, policy, now)
    lead_save(lead, before, actor, "lead.contact_logged")
    activity_add(
        lead,
        ActivityKind.CONTACT_ATTEMPT,
        actor,
        now,
        channel=channel,
        direction=direction,
        outcome=outcome,
        text=note.strip(),
        data={"opted_out_confirmed": True} if confirm_opt_out else {},
    )
    return lead
