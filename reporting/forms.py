from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from leads.models import Source
from trialsnest.studies.models import StudySite

MAX_DAYS = 366


class DashboardFilters(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    study_site = forms.ModelChoiceField(
        queryset=StudySite.objects.none(),
        required=False,
        to_field_name="code",
        empty_label="All studies and sites",
        label="Study at site",
    )
    source = forms.ChoiceField(choices=[("", "All sources"), *Source.choices], required=False)

    def __init__(self, *args: Any, study_sites: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        field = self.fields["study_site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = study_sites.select_related("study", "site")
        field.label_from_instance = _label  # type: ignore[method-assign,assignment]

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
