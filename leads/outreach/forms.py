"""Outreach forms: a message to send from the lead page, a template and its next version, and
the organization's SMS settings."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from leads.outreach.models import Language, MessageChannel
from leads.outreach.services.sending import SMS_MAX
from trialsnest.lib.forms import PlainTextField
from trialsnest.lib.phones import normalize_phone
from trialsnest.lib.text import NOTE_MAX


class MessageForm(forms.Form):
    channel = forms.ChoiceField(choices=MessageChannel.choices)
    subject = PlainTextField(max_length=200, required=False, help_text="E-mail only.")
    body = PlainTextField(max_length=max(SMS_MAX, NOTE_MAX), multiline=True, label="Message")
    # Made when the form is shown: sending the same form twice is one message.
    key = forms.CharField(widget=forms.HiddenInput, max_length=200)
    template = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].initial = self.initial.get("key") or str(uuid.uuid4())


class TemplateForm(forms.Form):
    name = PlainTextField(max_length=100)
    channel = forms.ChoiceField(choices=MessageChannel.choices)
    language = forms.ChoiceField(choices=Language.choices)
    subject = PlainTextField(max_length=200, required=False, help_text="E-mail only.")
    body = PlainTextField(
        max_length=NOTE_MAX,
        multiline=True,
        help_text="Variables: {{ first_name }}, {{ study_title }}, {{ site_name }}, "
        "{{ site_address }}, {{ coordinator_name }}, {{ visit_time }}, {{ visit_address }}.",
    )


class VersionForm(forms.Form):
    subject = PlainTextField(max_length=200, required=False, help_text="E-mail only.")
    body = PlainTextField(max_length=NOTE_MAX, multiline=True)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("opt_out", "Opt out of SMS"), ("resume", "Resume SMS")])


class OutreachSettingsForm(forms.Form):
    sms_number = forms.CharField(
        max_length=20, required=False, label="SMS number", help_text="The number texts come from."
    )
    help_contact = PlainTextField(
        max_length=160, required=False, help_text="What a HELP reply says."
    )

    def clean_sms_number(self) -> str:
        return normalize_phone(self.cleaned_data["sms_number"])
