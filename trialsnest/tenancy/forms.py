from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.urls import reverse

from trialsnest.accounts.models import User
from trialsnest.lib.forms import PlainTextField, limit_text
from trialsnest.lib.postal import normalize_postal_code
from trialsnest.lib.text import LINE_MAX, NOTE_MAX
from trialsnest.lib.timezones import suggest_timezone, timezone_names
from trialsnest.studies.models import RecruitmentStatus, Study, StudySite
from trialsnest.tenancy.models import Organization, Role, Site
from trialsnest.tenancy.selectors import usual_timezone

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
    first_name = PlainTextField(max_length=150, required=False)
    last_name = PlainTextField(max_length=150, required=False)

    field_order = ["email", "first_name", "last_name", "role", "sites", "study_sites"]


class MembershipForm(RestrictionFields):
    pass


class DeactivateForm(forms.Form):
    reason = PlainTextField(max_length=LINE_MAX, required=False)


class SiteForm(forms.ModelForm[Site]):
    business_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Business hours and SLA targets are counted on this clock. Leave it empty "
        "to get the one the address suggests.",
        error_messages={
            "required": "Pick the site's time zone.",
            "invalid_choice": "“%(value)s” is not a known time zone (e.g. America/Chicago).",
        },
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
        for name in ("name", "address", "city", "state", "postal_code", "country"):
            limit_text(self.fields[name])
        zone: Any = self.fields["timezone"]
        zone.choices = [("", "— pick —"), *((name, name) for name in timezone_names())]
        # Changing the state or country asks for the zone they suggest (htmx; without
        # JavaScript, saving without a zone shows the suggestion to check).
        for name in ("state", "country"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": reverse("settings_site_timezone"),
                    "hx-trigger": "change",
                    "hx-target": "#id_timezone",
                    "hx-swap": "outerHTML",
                    "hx-include": "[name=state], [name=country], [name=timezone]",
                    "hx-sync": "closest form:replace",
                }
            )
        if self.instance._state.adding and not self.is_bound:
            self.initial["timezone"] = usual_timezone(organization)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        clash = Site.objects.filter(organization=self.organization, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another site already has this name.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.data.get("timezone"):
            self._suggest_timezone()
        if data.get("postal_code") and "country" not in self.errors:
            try:
                data["postal_code"] = normalize_postal_code(
                    str(data["postal_code"]), str(data.get("country") or "")
                )
            except forms.ValidationError as error:
                self.add_error("postal_code", error)
        return data

    def _suggest_timezone(self) -> None:
        """No zone picked: offer the address's (or the organization's usual one), selected in
        the form shown again, for the admin to check and save."""
        state, country = str(self.data.get("state", "")), str(self.data.get("country", ""))
        zone = suggest_timezone(state=state, country=country)
        where = ", ".join(part.strip() for part in (state, country) if part.strip())
        if zone:
            reason = f"{zone} is suggested from {where}"
        elif zone := usual_timezone(self.organization):
            reason = f"{zone} is the one most of your sites use"
        else:
            return
        self.errors.pop("timezone", None)
        self.add_error("timezone", f"Pick the site's time zone: {reason}. Check it and save.")
        data: Any = copy.copy(self.data)  # a QueryDict's copy is mutable
        data["timezone"] = zone
        self.data = data


class StudySiteFields(forms.ModelForm[StudySite]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("lay_summary", "lay_summary_es"):
            limit_text(self.fields[name], max_length=NOTE_MAX, multiline=True)

    class Meta:
        model = StudySite
        fields = [
            "recruitment_status",
            "enrollment_target",
            "lay_summary",
            "lay_summary_es",
            "rank",
        ]
        labels = {"rank": "Rank for “any site” interest (lowest first)"}
        help_texts = {
            "lay_summary": "Plain-language summary shown on the public study page. "
            "Leave empty to use the registry's brief summary.",
            "lay_summary_es": "The same in Spanish, shown on the Spanish pages (/es/studies/). "
            "Leave empty to show the English summary there.",
        }


class StudySiteSpanishSummaryForm(forms.ModelForm[StudySite]):
    """A site lead's Spanish lay summary of a StudySite they lead (the Team page)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_text(self.fields["lay_summary_es"], max_length=NOTE_MAX, multiline=True)

    class Meta:
        model = StudySite
        fields = ["lay_summary_es"]
        help_texts = {"lay_summary_es": StudySiteFields.Meta.help_texts["lay_summary_es"]}


class StudySiteCreateForm(StudySiteFields):
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    study = forms.ModelChoiceField(queryset=Study.objects.all())

    class Meta(StudySiteFields.Meta):
        fields = ["site", "study", *StudySiteFields.Meta.fields]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.queryset = Site.objects.filter(organization=organization)
        # It recruits once its launch checklist is done, on its own page.
        status: Any = self.fields["recruitment_status"]
        status.choices = [c for c in status.choices if c[0] != RecruitmentStatus.RECRUITING]
        status.initial = RecruitmentStatus.NOT_YET_RECRUITING
        status.help_text = (
            "Set it to recruiting on its page once its launch checklist (owners, SLA targets, "
            "prescreen, records, visits, materials, sponsor update) is complete."
        )

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


class AwayForm(forms.Form):
    """Out of office: the first and the last day away (both empty: not away)."""

    away_from = forms.DateField(
        label="First day away", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    away_until = forms.DateField(
        label="Last day away", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    timezone = forms.ChoiceField(
        label="Your time zone",
        required=False,
        help_text="Your morning digest comes at 08:00 on this clock.",
        error_messages={"invalid_choice": "“%(value)s” is not a known time zone."},
    )

    def __init__(self, *args: Any, site_zone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone: Any = self.fields["timezone"]
        usual = f"Your site's ({site_zone})" if site_zone else "Your site's"
        zone.choices = [("", usual), *((name, name) for name in timezone_names())]
