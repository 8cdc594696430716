from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from leads.models import RecruitmentMaterial
from trialsnest.accounts.models import User
from trialsnest.studies.ctgov import CtgovError, StudyRecord, read_text
from trialsnest.studies.models import Study, StudySite
from trialsnest.tenancy.models import Membership, Organization, Role, Site

WEEKDAYS = [
    (1, "Mon"),
    (2, "Tue"),
    (3, "Wed"),
    (4, "Thu"),
    (5, "Fri"),
    (6, "Sat"),
    (7, "Sun"),
]


class RestrictionFields(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.COORDINATOR)
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty for all sites.",
    )
    study_sites = forms.ModelMultipleChoiceField(
        queryset=StudySite.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Studies at sites",
        help_text="Leave empty for all studies (org admins are never restricted).",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites_field: Any = self.fields["sites"]
        sites_field.queryset = Site.objects.filter(organization=organization)
        study_sites_field: Any = self.fields["study_sites"]
        study_sites_field.queryset = StudySite.objects.filter(
            organization=organization
        ).select_related("site", "study")


class InviteForm(RestrictionFields):
    email = forms.EmailField(label="E-mail address")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)

    field_order = ["email", "first_name", "last_name", "role", "sites", "study_sites"]


class MembershipForm(RestrictionFields):
    pass


class DeactivateForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, widget=forms.TextInput)


class SiteForm(forms.ModelForm[Site]):
    business_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "timezone",
            "opens_at",
            "closes_at",
            "business_days",
            "address",
            "city",
            "state",
            "postal_code",
            "country",
        ]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        self.organization = organization

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        clash = Site.objects.filter(organization=self.organization, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another site already has this name.")
        return name


class StudySiteFields(forms.ModelForm[StudySite]):
    class Meta:
        model = StudySite
        fields = ["recruitment_status", "enrollment_target", "lay_summary", "rank"]
        labels = {"rank": "Rank for “any site” interest (lowest first)"}
        help_texts = {
            "lay_summary": "Plain-language summary shown on the public study page. "
            "Leave empty to use the registry's brief summary.",
        }


class StudySiteCreateForm(StudySiteFields):
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    study = forms.ModelChoiceField(queryset=Study.objects.all())

    class Meta(StudySiteFields.Meta):
        fields = ["site", "study", *StudySiteFields.Meta.fields]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.queryset = Site.objects.filter(organization=organization)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        site, study = data.get("site"), data.get("study")
        if site and study and StudySite.objects.filter(site=site, study=study).exists():
            self.add_error("study", "This study already runs at this site.")
        return data


class StudySiteEditForm(StudySiteFields):
    sponsor_viewers = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Share aggregate reports with",
        help_text="Sponsor viewers see aggregates only, never a patient.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["sponsor_viewers"]
        sponsor_id = self.instance.study.sponsor_id
        field.queryset = (
            User.objects.filter(
                sponsor_membership__sponsor_id=sponsor_id, sponsor_membership__is_active=True
            )
            if sponsor_id is not None
            else User.objects.none()
        )


# ClinicalTrials.gov upload and recruitment materials ------------------------------------------

CTGOV_MAX_BYTES = 20 * 1024 * 1024


class CtgovUploadForm(forms.Form):
    """One ClinicalTrials.gov API v2 JSON file; a file the importer refuses is refused whole."""

    file = forms.FileField(
        label="ClinicalTrials.gov JSON file",
        help_text="A study (/api/v2/studies/NCT…) or a search page (/api/v2/studies?…) saved as "
        "JSON, up to 20 MB.",
    )

    records: list[StudyRecord]

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        name = upload.name or "The file"
        if (upload.size or 0) > CTGOV_MAX_BYTES:
            raise forms.ValidationError(f"{name}: larger than 20 MB; save fewer studies per page.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(f"{name}: not UTF-8 text, so not a JSON file.") from None
        try:
            self.records = read_text(text)
        except CtgovError as exc:
            raise forms.ValidationError(f"{name}: {' '.join(str(exc).split())}") from None
        if not self.records:
            raise forms.ValidationError(f"{name}: the search page holds no studies.")
        return upload


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
        field: Any = self.fields["study_site"]
        field.queryset = membership.visible_study_sites().select_related("site", "study")
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
