"""The public forms: study search and the interest form, with the consent texts they show."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leads.models import Channel
from leads.public.catalog import place_of
from trialsnest.lib.emails import normalize_email
from trialsnest.lib.forms import PlainTextField
from trialsnest.lib.phones import normalize_phone
from trialsnest.lib.postal import BASIC, normalize_postal_code
from trialsnest.lib.text import NAME_MAX
from trialsnest.studies.models import StudySite

# Consent ------------------------------------------------------------------------------------
# What the visitor agrees to, per channel. Any change to these texts, in any language, needs a
# new version: each person's consent is stored with "<version>/<language of the page>".

CONSENT_TEXT_VERSION = "web-interest-2026-01"
CONSENT_TEXTS: dict[str, Any] = {
    Channel.PHONE: _("Phone calls: the study team may call me about this study."),
    Channel.SMS: _(
        "Text messages: the study team may text me about this study. "
        "Message and data rates may apply; reply STOP at any time to stop."
    ),
    Channel.EMAIL: _("E-mail: the study team may e-mail me about this study."),
}


def consent_text_version(language: str) -> str:
    return f"{CONSENT_TEXT_VERSION}/{language}"


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Words"),
        max_length=200,
        required=False,
        help_text=_("For example: melanoma, diabetes, heart failure."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    condition = forms.CharField(
        label=_("Condition"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "conditions", "autocomplete": "off"}),
    )
    location = forms.CharField(
        label=_("ZIP code, city or state"),
        max_length=100,
        required=False,
        help_text=_("For example: 60601, Chicago or Illinois."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )

    def clean_location(self) -> str:
        location = " ".join(str(self.cleaned_data["location"]).split())
        digits = location.replace(" ", "").replace("-", "")
        if digits.isdigit() and len(digits) < 3:
            raise ValidationError(_("Enter at least the first 3 digits of a ZIP code."))
        return location


ANY_SITE = "any"
HONEYPOT = "website"
BASIC_POSTAL_CODE = BASIC.pattern
PREFERRED_TIMES = [
    ("", _("Any time")),
    ("morning", _("Morning")),
    ("afternoon", _("Afternoon")),
    ("evening", _("Evening")),
]


class InterestForm(forms.Form):
    site = forms.ChoiceField(
        label=_("Where would you like to take part?"), widget=forms.RadioSelect
    )
    first_name = PlainTextField(
        label=_("First name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = PlainTextField(
        label=_("Last name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        help_text=_("A phone number, an e-mail address, or both."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    preferred_time = forms.ChoiceField(
        label=_("Best time to reach you"),
        choices=PREFERRED_TIMES,
        required=False,
        widget=forms.RadioSelect,
    )
    postal_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    consent = forms.MultipleChoiceField(
        label=_("How may the study team contact you?"),
        choices=list(CONSENT_TEXTS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one way the study team may contact you.")},
    )
    material = PlainTextField(
        label=_("Code from a flyer or ad"),
        max_length=60,
        required=False,
        help_text=_("If a flyer, poster or ad gave you a code, type it here."),
    )

    def __init__(
        self, *args: Any, sites: list[StudySite], entry: StudySite | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # The site page the visitor came from, if any: it decides where "any site" goes.
        self.sites, self.entry = sites, entry
        if len(sites) == 1:
            del self.fields["site"]
        else:
            field: Any = self.fields["site"]
            field.choices = [
                (ANY_SITE, _("Any of these sites")),
                *[(str(s.code), f"{s.site.name} ({place_of(s)})") for s in sites],
            ]

    def clean_first_name(self) -> str:
        return " ".join(str(self.cleaned_data["first_name"]).split())

    def clean_last_name(self) -> str:
        return " ".join(str(self.cleaned_data["last_name"]).split())

    def clean_phone(self) -> str:
        try:
            return normalize_phone(str(self.cleaned_data["phone"]))
        except ValidationError:
            raise ValidationError(
                _("Enter a phone number with its area code, such as 312 555 0123."),
                code="invalid",
            ) from None

    def clean_email(self) -> str:
        return normalize_email(str(self.cleaned_data["email"]))

    def clean_postal_code(self) -> str:
        value = " ".join(str(self.cleaned_data["postal_code"]).split()).upper()
        if not BASIC_POSTAL_CODE.fullmatch(value):
            raise ValidationError(_("Enter a ZIP code, such as 60601."), code="invalid")
        return value

    def _check_postal_code_for_the_site(self, data: dict[str, Any]) -> None:
        # Checked against the country of the site the interest goes to, once that is known.
        if not data.get("postal_code") or not self.sites or "site" in self.errors:
            return
        country = self.study_site().site.country
        try:
            data["postal_code"] = normalize_postal_code(data["postal_code"], country)
        except ValidationError as error:
            self.add_error("postal_code", error)

    def clean_material(self) -> str:
        return str(self.cleaned_data["material"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_postal_code_for_the_site(data)
        phone, email = data.get("phone", ""), data.get("email", "")
        checked = set(data.get("consent") or ())
        contact_errors = "phone" in self.errors or "email" in self.errors
        if not contact_errors and not phone and not email:
            message = _(
                "Give a phone number or an e-mail address, so the study team can reach you."
            )
            self.add_error("phone", message)
            self.add_error("email", message)
        elif not contact_errors:
            if not phone and checked & {Channel.PHONE, Channel.SMS}:
                self.add_error(
                    "phone",
                    _("You chose calls or text messages: give a phone number, or untick them."),
                )
            if not email and Channel.EMAIL in checked:
                self.add_error(
                    "email", _("You chose e-mail: give an e-mail address, or untick it.")
                )
        return data

    def study_site(self) -> StudySite:
        """The chosen StudySite. "Any site" is the one its organization ranks first (lowest rank):
        the organization of the site page the visitor came from, else the best rank overall."""
        entry = self.entry
        if "site" not in self.fields:
            return self.sites[0]
        chosen = self.cleaned_data["site"]
        for study_site in self.sites:
            if str(study_site.code) == chosen:
                return study_site
        candidates = [
            s for s in self.sites if entry is None or s.organization_id == entry.organization_id
        ]
        return min(candidates or self.sites, key=lambda s: (s.rank, s.pk))


# The person's fields the interest form asks for (a subset of Person.CONTACT_FIELDS).
PERSON_KEYS = ("first_name", "last_name", "phone", "email", "postal_code", "preferred_time")


def submission_payload(
    form: InterestForm, *, language: str, attribution: dict[str, str]
) -> dict[str, Any]:
    """The cleaned form data as JSON-safe values, with what intake needs to run again later."""
    data = form.cleaned_data
    return {
        **{key: str(data.get(key) or "") for key in PERSON_KEYS},
        "consent": sorted(str(c) for c in data["consent"]),
        "site": str(data.get("site") or ""),
        "material": str(data.get("material") or ""),
        "language": language,
        "consent_text_version": consent_text_version(language),
        "attribution": attribution,
    }
