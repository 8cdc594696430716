"""Forms of the scheduling screens. They check shape; the services check the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import holidays
from django import forms
from django.core.exceptions import ValidationError

from scheduling.models import (
    NAME_MAX,
    REASON_MAX,
    WEEKDAYS,
    Closure,
    Resource,
    SiteCalendar,
    VisitType,
    WeeklyHours,
)
from trialsnest.tenancy.models import Site


class SlotForm(forms.Form):
    """A slot picked from the week view: its UTC start as the page gave it."""

    starts_at = forms.CharField(max_length=40)

    def clean_starts_at(self) -> datetime:
        try:
            moment = datetime.fromisoformat(self.cleaned_data["starts_at"])
        except ValueError:
            raise ValidationError("Pick a time from the list.") from None
        if moment.tzinfo is None:
            raise ValidationError("Pick a time from the list.")
        return moment


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, label="Reason")


class ResourceForm(forms.ModelForm[Resource]):
    class Meta:
        model = Resource
        fields = ["name", "kind", "is_active"]


class WeeklyHoursForm(forms.ModelForm[WeeklyHours]):
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)

    class Meta:
        model = WeeklyHours
        fields = ["weekday", "opens_at", "closes_at"]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }


class ClosureForm(forms.ModelForm[Closure]):
    class Meta:
        model = Closure
        fields = ["first_day", "last_day", "reason"]
        widgets = {
            "first_day": forms.DateInput(attrs={"type": "date"}),
            "last_day": forms.DateInput(attrs={"type": "date"}),
        }


class CalendarForm(forms.ModelForm[SiteCalendar]):
    class Meta:
        model = SiteCalendar
        fields = ["holiday_country", "holiday_subdivision", "slot_minutes"]
        labels = {
            "holiday_country": "Public holidays of (country code, blank for none)",
            "holiday_subdivision": "State or region code (e.g. IL)",
            "slot_minutes": "Minutes between slot starts",
        }

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        country = (data.get("holiday_country") or "").upper()
        subdivision = (data.get("holiday_subdivision") or "").upper()
        if country:
            try:
                holidays.country_holidays(country, subdiv=subdivision or None)
            except NotImplementedError:
                raise ValidationError(
                    {
                        "holiday_subdivision": f"No public holidays are known for {country} "
                        f"{subdivision}".strip()
                        + "."
                    }
                ) from None
        data["holiday_country"], data["holiday_subdivision"] = country, subdivision
        return data


class VisitTypeForm(forms.ModelForm[VisitType]):
    name = forms.CharField(max_length=NAME_MAX)

    class Meta:
        model = VisitType
        fields = ["name", "duration_minutes", "preparation", "resources", "is_active"]
        labels = {"duration_minutes": "Duration (minutes)", "resources": "Needs"}
        widgets = {"resources": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resources"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Resource.objects.filter(site=site, is_active=True)
        field.required = False  # clean_resources says what is missing, in our words

    def clean_resources(self) -> Any:
        resources = self.cleaned_data["resources"]
        if not resources:
            raise ValidationError("Pick at least one room, person or device the visit needs.")
        return resources
