"""The staff forms of the leads app: actions on a lead, the queue and policies. The intake
screens' forms (CSV imports, API keys, materials) are leads/intake_forms.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import QueryDict
from django.utils import timezone

from leads.models import (
    BLOCKER_TEXT_MAX,
    TRANSITIONS,
    ActionKind,
    Blocker,
    Channel,
    CloseReason,
    Direction,
    Lead,
    Outcome,
    Policy,
    Status,
    check_cadence,
)
from leads.services.leads import check_due_time
from trialsnest.lib.forms import PlainTextField
from trialsnest.lib.text import LINE_MAX, NOTE_MAX
from trialsnest.tenancy.models import Membership
from trialsnest.tenancy.selectors import members_who_see

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input, read in the time zone of the lead's site."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    input_formats = [LOCAL_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

    def __init__(self, *args: Any, tz: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = ZoneInfo(tz)

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(self.tz):
            moment = super().to_python(value)
        if moment is not None:
            check_due_time(moment)
        return moment

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(self.tz).strftime(LOCAL_INPUT)
        return value


class LeadForm(forms.Form):
    """A form about one lead; carries the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    # Most actions are for open leads only; the status form also reopens closed ones.
    for_open_leads = True

    def __init__(self, *args: Any, lead: Lead, **kwargs: Any) -> None:
        kwargs["initial"] = {**(kwargs.get("initial") or {}), "version": lead.version}
        super().__init__(*args, **kwargs)
        self.lead = lead
        self.tz = lead.study_site.site.timezone

    @property
    def unavailable(self) -> str:
        """Why this form cannot be used on the lead as it is ("" when it can): the page says
        so instead of offering fields that lead nowhere."""
        if self.lead.status == Status.HANDED_OFF:
            return "This lead was handed off to the study team: there is nothing more to change."
        if self.for_open_leads and not self.lead.is_open:
            return "This lead is closed. Reopen it (Change status) first."
        return ""

    def local(self, name: str, **kwargs: Any) -> None:
        self.fields[name] = LocalDateTimeField(tz=self.tz, **kwargs)


class AttemptForm(LeadForm):
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    # No default: a hurried click must not record a contact that never happened.
    outcome = forms.ChoiceField(
        choices=[("", "Pick the outcome"), *Outcome.choices],
        error_messages={"required": "Pick the outcome of the attempt."},
    )
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.OUTBOUND)
    note = PlainTextField(
        required=False,
        max_length=NOTE_MAX,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_opt_out = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local("callback_at", required=False, label="Call back at (if asked)")
        self.order_fields(["channel", "outcome", "direction", "callback_at", "note"])


class NextActionForm(LeadForm):
    kind = forms.ChoiceField(choices=ActionKind.choices, label="Next action")
    note = PlainTextField(required=False, max_length=LINE_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local("due_at", label="Due")
        self.initial.setdefault("kind", self.lead.next_action)
        self.initial.setdefault("due_at", self.lead.next_action_due_at)
        self.order_fields(["kind", "due_at", "note"])


class SnoozeForm(LeadForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local(
            "until",
            label="Snooze until",
            help_text="Out of Due now and Stale until then; the next action stays as it is.",
        )
        # Tomorrow at 09:00 on the site's clock: the usual "not today".
        tomorrow = timezone.now().astimezone(ZoneInfo(self.tz)) + timedelta(days=1)
        self.initial.setdefault(
            "until", tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
        )


class NoteForm(forms.Form):
    text = PlainTextField(label="Note", max_length=NOTE_MAX, multiline=True)


class StatusForm(LeadForm):
    status = forms.ChoiceField(
        label="Move to", error_messages={"required": "Pick the status to move to."}
    )
    close_reason = forms.ChoiceField(
        choices=[("", "—"), *CloseReason.choices], required=False, label="Close reason"
    )
    reason = PlainTextField(required=False, max_length=LINE_MAX, label="Reason (needed to reopen)")
    for_open_leads = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["status"]
        field.choices = [
            ("", "Pick a status"),
            *((s, Status(s).label) for s in self.lead.transitions_by_hand()),
        ]
        if Status.VISIT_SCHEDULED in TRANSITIONS[self.lead.status]:
            field.help_text = "Visit scheduled is set when a visit is booked for the lead."
        if self.lead.status == Status.CLOSED:
            field.label = "Reopen as"
            del self.fields["close_reason"]
        else:
            del self.fields["reason"]


class AssignForm(LeadForm):
    owner = forms.ModelChoiceField(queryset=Membership.objects.none(), to_field_name="code")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["owner"]
        field.queryset = members_who_see(self.lead.study_site).select_related("user")
        field.label_from_instance = lambda m: f"{m.user} ({m.get_role_display()})"


class BlockerForm(LeadForm):
    blocker = forms.ChoiceField(choices=[("", "None"), *Blocker.choices], required=False)
    blocker_text = PlainTextField(
        required=False, max_length=BLOCKER_TEXT_MAX, label="What blocks it"
    )


class OptOutForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    evidence = PlainTextField(
        required=False,
        max_length=LINE_MAX,
        help_text="What they said, and how (e.g. “STOP” by SMS).",
    )


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)


class SavedViewForm(forms.Form):
    name = PlainTextField(max_length=80, error_messages={"required": "Name the view to save it."})
    query = forms.CharField(max_length=1000, required=False)
    shared = forms.BooleanField(required=False)


class BulkForm(forms.Form):
    ACTIONS = [("assign", "Assign"), ("next_action", "Set next action"), ("close", "Close")]

    action = forms.ChoiceField(choices=ACTIONS)
    leads = forms.MultipleChoiceField(choices=[], error_messages={"required": "Select leads."})
    owner = forms.ModelChoiceField(
        queryset=Membership.objects.none(), to_field_name="code", required=False
    )
    kind = forms.ChoiceField(choices=[("", "—"), *ActionKind.choices], required=False)
    due_at = forms.DateTimeField(
        required=False,
        input_formats=[LOCAL_INPUT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    close_reason = forms.ChoiceField(choices=[("", "—"), *CloseReason.choices], required=False)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["owner"]
        field.queryset = Membership.objects.filter(
            organization_id=membership.organization_id, is_active=True
        ).select_related("user")
        leads_field: Any = self.fields["leads"]
        codes = self.data.getlist("leads") if isinstance(self.data, QueryDict) else []
        leads_field.choices = [(code, code) for code in codes]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "assign" and not data.get("owner"):
            self.add_error("owner", "Pick who gets the leads.")
        if action == "next_action" and not (data.get("kind") and data.get("due_at")):
            self.add_error("kind", "Pick the next action and when it is due.")
        if action == "close" and not data.get("close_reason"):
            self.add_error("close_reason", "Say why the leads are closed.")
        return data


class PolicyForm(forms.ModelForm[Policy]):
    cadence = forms.CharField(
        max_length=200,
        label="Contact cadence (hours after the first attempt)",
        help_text="Comma-separated, e.g. 0, 24, 72, 168 for now, +1 day, +3 days, +7 days.",
    )

    class Meta:
        model = Policy
        fields = [
            "final_wait_hours",
            "sla_first_response_hours",
            "sla_prescreen_review_hours",
            "sla_records_request_hours",
            "sla_scheduling_hours",
            "stale_after_days",
            "study_team",
        ]
        widgets = {"study_team": forms.CheckboxSelectMultiple}
        labels = {
            "final_wait_hours": "Wait after the last attempt before closing (hours)",
            "sla_first_response_hours": "First response target (business hours)",
            "sla_prescreen_review_hours": "Prescreen review target (business hours)",
            "sla_records_request_hours": "Records request target (business hours)",
            "sla_scheduling_hours": "Scheduling target (business hours)",
            "stale_after_days": "Stale after (days without movement)",
            "study_team": "Study-team reviewers",
        }
        help_texts = {
            "study_team": "Who hears when a lead waits on the study team's review past its "
            "target. With nobody ticked, the site leads do."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("cadence", ", ".join(map(str, self.instance.cadence_hours)))
        self.order_fields(["cadence"])
        team: Any = self.fields["study_team"]
        team.queryset = members_who_see(self.instance.study_site).select_related("user")

    def clean_cadence(self) -> list[int]:
        raw = str(self.cleaned_data["cadence"])
        try:
            hours = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError:
            raise forms.ValidationError("Use whole hours separated by commas.") from None
        check_cadence(hours)
        return hours
