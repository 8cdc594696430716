"""Forms of the intake screens: CSV imports, API keys and recruitment materials."""

from __future__ import annotations

from typing import Any

from django import forms

from leads.intake.csv.reader import FIELDS as CSV_FIELDS
from leads.models import (
    ApiKey,
    Channel,
    RecruitmentMaterial,
    Source,
)
from trialsnest.lib.forms import PlainTextField
from trialsnest.lib.text import single_line
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership
from trialsnest.tenancy.selectors import visible_study_sites

# CSV imports --------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma or semicolon separated.")
    study_site: forms.ModelChoiceField[StudySite] = forms.ModelChoiceField(
        queryset=StudySite.objects.none(), label="Study at site"
    )
    source = forms.ChoiceField(choices=Source.choices, initial=Source.VENDOR_LIST)
    campaign = PlainTextField(max_length=200, required=False)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["study_site"]
        field.queryset = visible_study_sites(membership).select_related("site", "study")


class MappingForm(forms.Form):
    consent = forms.MultipleChoiceField(
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="The list's consent covers",
    )

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— not in this file —")] + [
            (str(i), name or f"column {i + 1}") for i, name in enumerate(header)
        ]
        for name, (label, _) in CSV_FIELDS.items():
            self.fields[name] = forms.ChoiceField(choices=choices, required=False, label=label)
        self.order_fields([*CSV_FIELDS, "consent"])

    def columns(self) -> dict[str, int]:
        return {
            name: int(value)
            for name in CSV_FIELDS
            if (value := self.cleaned_data.get(name)) not in (None, "")
        }


# Intake settings ----------------------------------------------------------------------------------


class ApiKeyForm(forms.Form):
    name = PlainTextField(
        max_length=100, help_text="For you: who uses it and for what, e.g. “Acme referrals”."
    )
    scopes = forms.MultipleChoiceField(
        label="The key may",
        choices=ApiKey.Scope.choices,
        initial=[ApiKey.Scope.INTAKE],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick what the key may do."},
        help_text="Give a partner's key the first only. The second is for your CTMS: it reads "
        "names and contact details of every lead handed off in your organization.",
    )
    source = forms.ChoiceField(
        choices=Source.choices,
        initial=Source.REFERRAL_PARTNER,
        help_text="Of the leads it sends (a key that only reads handoffs sends none).",
    )
    referral_partner = PlainTextField(
        max_length=200,
        required=False,
        help_text="Required when the source is a referral partner. The key sees only the "
        "leads it sent.",
    )


class MaterialForm(forms.ModelForm[RecruitmentMaterial]):
    class Meta:
        model = RecruitmentMaterial
        fields = ["material_code", "title", "study_site", "approved_on", "expires_on"]
        labels = {
            "study_site": "Study at a site",
            "approved_on": "IRB approved on",
            "expires_on": "Approval expires on",
        }
        help_texts = {
            "material_code": "Printed on the material and used in its links "
            "(/studies/…?material=FLYER-V3). Letters, digits and hyphens.",
            "study_site": "Leave empty for a material of the whole organization.",
            "expires_on": "Leads that arrive through the material after this date are accepted "
            "and flagged for you.",
        }
        widgets = {
            "approved_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "expires_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_id = membership.organization_id
        self.instance.organization_id = membership.organization_id
        self.fields["title"].validators.append(single_line)
        field: Any = self.fields["study_site"]
        field.queryset = visible_study_sites(membership).select_related("site", "study")
        field.empty_label = "All studies of the organization"

    def clean_material_code(self) -> str:
        code = str(self.cleaned_data["material_code"]).strip()
        clash = RecruitmentMaterial.objects.filter(
            organization_id=self.organization_id, material_code__iexact=code
        )
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another material of your organization has this code.")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        approved, expires = data.get("approved_on"), data.get("expires_on")
        if approved and expires and expires < approved:
            self.add_error("expires_on", "The approval cannot expire before it was given.")
        return data
