from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from leads.models import Source
from reporting.models import ReviewMetric, SponsorUpdate
from trialsnest.lib.forms import PlainTextField, limit_text
from trialsnest.lib.text import NOTE_MAX
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership

MAX_DAYS = 366


class DashboardFilters(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    study_site = forms.ChoiceField(required=False, label="Study at site")
    source = forms.ChoiceField(choices=[("", "All sources"), *Source.choices], required=False)

    def __init__(self, *args: Any, study_sites: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        # A list, read once: the page names its StudySites from it too.
        self.study_sites: list[StudySite] = list(
            study_sites.select_related("study", "site").order_by("site__name", "pk")
        )
        field = self.fields["study_site"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "All studies and sites")] + [
            (str(ss.code), _label(ss)) for ss in self.study_sites
        ]

    def clean_study_site(self) -> StudySite | None:
        code = self.cleaned_data.get("study_site")
        if not code:
            return None
        return next(ss for ss in self.study_sites if str(ss.code) == code)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=89)
        if start > end:
            self.add_error("start", "The start must be on or before the end.")
        elif (end - start).days >= MAX_DAYS:
            self.add_error("start", f"Pick a range of at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data


def _label(study_site: StudySite) -> str:
    return f"{study_site.study.brief_title[:60]} · {study_site.site.name}"


class SponsorUpdateForm(forms.ModelForm[SponsorUpdate]):
    """The site lead's four parts of a sponsor update (the figures come from the rollups)."""

    class Meta:
        model = SponsorUpdate
        fields = ["moved", "stalled", "decisions", "next_steps"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}
        help_texts = {
            "stalled": "Say why in categories (records slow from one provider, visit capacity), "
            "never about a person.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.Meta.fields:
            limit_text(self.fields[name], max_length=NOTE_MAX, multiline=True)


class ActionItemForm(forms.Form):
    title = PlainTextField(max_length=200, label="Action")
    owner = forms.ModelChoiceField(queryset=Membership.objects.none(), label="Owner")
    due_on = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}))
    metric = forms.ChoiceField(
        choices=ReviewMetric.choices,
        label="Measure to look at again",
        help_text="Next week's review shows how it moved.",
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner: Any = self.fields["owner"]
        owner.queryset = (
            Membership.objects.filter(organization_id=membership.organization_id, is_active=True)
            .select_related("user")
            .order_by("user__first_name", "user__email")
        )
        owner.label_from_instance = lambda m: m.user.get_full_name() or m.user.email
