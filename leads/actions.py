"""The actions a member takes on one lead: one registry for the views, the URLs, the queue's
row links and keyboard keys, and the property test that drives them.

Each action has a form (its page without JavaScript, its panel with htmx) and the service call
its cleaned data goes to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.forms import Form
from django.http import QueryDict

from leads import services
from leads.forms import (
    AssignForm,
    AttemptForm,
    BlockerForm,
    LeadForm,
    NextActionForm,
    NoteForm,
    OptOutForm,
    SnoozeForm,
    StatusForm,
)
from leads.models import Lead
from trialsnest.audit.services import Actor

Apply = Callable[[Lead, dict[str, Any], Actor], object]


@dataclass(frozen=True)
class LeadAction:
    key: str  # the URL segment: /leads/<code>/<key>/
    title: str
    form: type[Form]
    apply: Apply
    # Offered on every queue row, as a link with this text and keyboard key.
    link: str = ""
    hotkey: str = ""

    def build_form(self, lead: Lead, data: QueryDict | None) -> Form:
        if not issubclass(self.form, LeadForm):
            return self.form(data)
        initial = {"owner": lead.owner.code if lead.owner else None} if self.key == "assign" else {}
        return self.form(data, lead=lead, initial=initial)


def _attempt(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_log_attempt(
        lead=lead,
        channel=data["channel"],
        outcome=data["outcome"],
        direction=data["direction"],
        note=data["note"],
        callback_at=data.get("callback_at"),
        confirm_opt_out=data["confirm_opt_out"],
        version=data.get("version"),
        actor=actor,
    )


def _next_action(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_set_next_action(
        lead=lead,
        kind=data["kind"],
        due_at=data["due_at"],
        note=data["note"],
        version=data.get("version"),
        actor=actor,
    )


def _note(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_add_note(lead=lead, text=data["text"], actor=actor)


def _status(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_change_status(
        lead=lead,
        status=data["status"],
        close_reason=data.get("close_reason", ""),
        reason=data.get("reason", ""),
        version=data.get("version"),
        actor=actor,
    )


def _assign(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_assign(
        lead=lead, owner=data["owner"], version=data.get("version"), actor=actor
    )


def _snooze(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_snooze(
        lead=lead, until=data["until"], version=data.get("version"), actor=actor
    )


def _blocker(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.lead_set_blocker(
        lead=lead,
        blocker=data["blocker"],
        text=data["blocker_text"],
        version=data.get("version"),
        actor=actor,
    )


def _opt_out(lead: Lead, data: dict[str, Any], actor: Actor) -> object:
    return services.person_record_opt_out(
        person=lead.person,
        channel=data["channel"],
        evidence=data["evidence"],
        lead=lead,
        actor=actor,
    )


ACTIONS: dict[str, LeadAction] = {
    action.key: action
    for action in (
        LeadAction("attempt", "Log a contact attempt", AttemptForm, _attempt, "Attempt", "a"),
        LeadAction("next_action", "Set the next action", NextActionForm, _next_action, "Next", "n"),
        LeadAction("note", "Add a note", NoteForm, _note, "Note", "o"),
        LeadAction("status", "Change status", StatusForm, _status, "Status", "s"),
        LeadAction("assign", "Reassign", AssignForm, _assign, "Reassign", "r"),
        LeadAction("snooze", "Snooze", SnoozeForm, _snooze, "Snooze", "z"),
        LeadAction("blocker", "Set a blocker", BlockerForm, _blocker),
        LeadAction("opt_out", "Record an opt-out", OptOutForm, _opt_out),
    )
}
ROW_ACTIONS = [action for action in ACTIONS.values() if action.link]
