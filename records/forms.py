"""Forms of the records screens. The rules live in the services; forms parse and offer."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from records.models import Method, Provider, RecordRequirement
from trialsnest.tenancy.models import Membership

DATE = forms.DateInput(attrs={"type": "date"})


class RequirementForm(forms.ModelForm[RecordRequirement]):
    class Meta:
        model = RecordRequirement
        fields = ["name", "required", "lookback_days", "instructions"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 3})}


class NewRequirementForm(RequirementForm):
    """Adding an item: it can also go to the leads already waiting on records."""

    add_to_waiting = forms.BooleanField(required=False)

    def __init__(self, *args: Any, waiting: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["add_to_waiting"]
        if waiting:
            field.label = f"Also add it to the {waiting} lead{'s' if waiting != 1 else ''} "
            field.label += "waiting on records now"
            field.help_text = "Otherwise it applies from the next lead that reaches records."
        else:
            del self.fields["add_to_waiting"]


class ProviderForm(forms.ModelForm[Provider]):
    class Meta:
        model = Provider
        fields = ["practice", "contact_name", "phone", "fax", "email", "portal_url", "notes"]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization_id = organization_id


class ItemForm(forms.Form):
    """A form of one action on a record item, offered for the member, as of the site's day."""

    def __init__(
        self, *args: Any, membership: Membership, today: datetime.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.setup(membership, today)

    def setup(self, membership: Membership, today: datetime.date) -> None:
        pass


class RequestForm(ItemForm):
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), empty_label="Pick…")
    method = forms.ChoiceField(choices=Method.choices)
    requested_on = forms.DateField(widget=DATE)
    due_on = forms.DateField(label="Due", widget=DATE)
    authorization_on_file = forms.BooleanField(
        label="A signed HIPAA authorisation is on file", required=False
    )

    def setup(self, membership: Membership, today: datetime.date) -> None:
        field = self.fields["provider"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Provider.objects.filter(organization_id=membership.organization_id)
        self.fields["requested_on"].initial = today
        self.fields["due_on"].initial = today + datetime.timedelta(days=7)


class FollowUpForm(ItemForm):
    due_on = forms.DateField(
        label="New due date", required=False, widget=DATE, help_text="Empty: keep the due date."
    )


class ReceiveForm(ItemForm):
    received_on = forms.DateField(label="Received on", widget=DATE)
    record_date = forms.DateField(
        label="Date of the record", widget=DATE, help_text="The date the record itself carries."
    )

    def setup(self, membership: Membership, today: datetime.date) -> None:
        self.fields["received_on"].initial = today


class ReviewForm(ItemForm):
    sufficient = forms.TypedChoiceField(
        label="The record is",
        choices=[("yes", "Sufficient"), ("no", "Insufficient: ask again")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Why it is insufficient", required=False, max_length=300)
    due_on = forms.DateField(label="New due date (when insufficient)", required=False, widget=DATE)

    def setup(self, membership: Membership, today: datetime.date) -> None:
        self.fields["due_on"].initial = today + datetime.timedelta(days=7)
