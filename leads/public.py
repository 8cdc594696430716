"""The public side: study search, study pages and the interest form. No sign-in.

Server-rendered, usable without JavaScript, in English (/studies/) and Spanish (/es/studies/).
These pages show the study catalog and the recruiting sites only, never anyone's data.

A submission is saved exactly as it arrived, in its own transaction, before intake runs: if intake
fails, the submission stays with its error and `leads.tasks.retry_submissions` tries it again. The
visitor is told their interest was received either way.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from axes.helpers import get_client_ip_address
from django import forms
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, TextField, Value
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from leads.intake import intake
from leads.models import Channel, Lead, Source, Submission
from leads.services import Actor, normalize_phone
from trialsnest import ratelimit
from trialsnest.audit.services import audit_record
from trialsnest.studies.models import RecruitmentStatus, Study, StudySite

logger = logging.getLogger(__name__)

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


# Search -------------------------------------------------------------------------------------

PAGE_SIZE = 10
MAX_CONDITION_SUGGESTIONS = 300

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "PR": "Puerto Rico", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming",
}  # fmt: skip


def recruiting_study_sites() -> QuerySet[StudySite]:
    return StudySite.objects.filter(recruitment_status=RecruitmentStatus.RECRUITING)


def _state_q(text: str) -> Q:
    """A state by name or postal abbreviation, however the site's address spells it."""
    names = {text.lower()}
    if text.upper() in US_STATES:
        names.add(US_STATES[text.upper()].lower())
    names |= {abbr.lower() for abbr, name in US_STATES.items() if name.lower() == text.lower()}
    q = Q()
    for name in sorted(names):
        q |= Q(site__state__iexact=name)
    return q


def location_q(text: str) -> Q:
    """StudySites whose site matches a ZIP code (or its first digits), a city or a state.

    No geocoding: "606" finds every 606xx ZIP code, "Chicago, IL" a city in a state.
    """
    text = " ".join(text.split())
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit():
        return Q(site__postal_code__startswith=digits[:5])
    place, comma, region = (part.strip() for part in text.partition(","))
    if comma and place and region:
        return Q(site__city__iexact=place) & _state_q(region)
    term = place or region
    return Q(site__postal_code__iexact=term) | Q(site__city__iexact=term) | _state_q(term)


def search_studies(*, words: str = "", condition: str = "", location: str = "") -> QuerySet[Study]:
    """Studies with a recruiting StudySite that matches, best match first."""
    sites = recruiting_study_sites().filter(study_id=OuterRef("pk"))
    if location:
        sites = sites.filter(location_q(location))
    studies = Study.objects.filter(Exists(sites)).only(
        "code", "brief_title", "conditions", "brief_summary"
    )
    if condition:
        joined = Func(
            F("conditions"), Value("\n"), function="array_to_string", output_field=TextField()
        )
        studies = studies.alias(condition_text=joined).filter(condition_text__icontains=condition)
    if words:
        query = SearchQuery(words, config="english", search_type="websearch")
        return (
            studies.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "brief_title", "id")
        )
    return studies.order_by("brief_title", "id")


# What a public page shows of a StudySite and its site: nothing organization-internal.
SITE_FIELDS = (
    "code",
    "organization_id",
    "study_id",
    "lay_summary",
    "rank",
    "site__name",
    "site__address",
    "site__city",
    "site__state",
    "site__postal_code",
)


def sites_of(studies: list[Study], location: str = "") -> dict[int, list[StudySite]]:
    """The recruiting StudySites of these studies (those at `location` when given), per study."""
    sites = (
        recruiting_study_sites()
        .filter(study_id__in=[s.pk for s in studies])
        .select_related("site")
        .only(*SITE_FIELDS)
        .order_by("site__state", "site__city", "site__name", "id")
    )
    if location:
        sites = sites.filter(location_q(location))
    result: dict[int, list[StudySite]] = {s.pk: [] for s in studies}
    for study_site in sites:
        result[study_site.study_id].append(study_site)
    return result


def condition_suggestions() -> list[str]:
    """Conditions of recruiting studies, for the search form's suggestions."""
    recruiting = recruiting_study_sites().filter(study_id=OuterRef("pk"))
    names = (
        Study.objects.filter(Exists(recruiting))
        .annotate(name=Func(F("conditions"), function="unnest", output_field=TextField()))
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")[:MAX_CONDITION_SUGGESTIONS]
    )
    return [str(name) for name in names]


def place_of(study_site: StudySite) -> str:
    site = study_site.site
    return ", ".join(part for part in (site.city, site.state, site.postal_code) if part)


def summary_of(study_site: StudySite, study: Study) -> str:
    """The site's lay summary, else the registry's brief summary."""
    return study_site.lay_summary.strip() or study.brief_summary.strip()


# Forms --------------------------------------------------------------------------------------


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
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9]$")
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
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
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
    material = forms.CharField(
        label=_("Code from a flyer or ad"),
        max_length=60,
        required=False,
        help_text=_("If a flyer, poster or ad gave you a code, type it here."),
    )

    def __init__(self, *args: Any, sites: list[StudySite], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = sites
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
        return str(self.cleaned_data["email"]).strip().lower()

    def clean_postal_code(self) -> str:
        value = " ".join(str(self.cleaned_data["postal_code"]).split()).upper()
        if not POSTAL_CODE.match(value):
            raise ValidationError(_("Enter a ZIP code, such as 60601."), code="invalid")
        return value

    def clean_material(self) -> str:
        return str(self.cleaned_data["material"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
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

    def study_site(self, entry: StudySite | None) -> StudySite:
        """The chosen StudySite. "Any site" is the one its organization ranks first (lowest rank):
        the organization of the site page the visitor came from, else the best rank overall."""
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


# Submissions --------------------------------------------------------------------------------
# The web form's writes. They sit here rather than in services.py because only this door and its
# retry task use them.

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


def intake_arguments(payload: dict[str, Any]) -> dict[str, Any]:
    attribution = dict(payload.get("attribution") or {})
    campaign = attribution.pop("campaign", "") or attribution.get("utm_campaign", "")
    return {
        "person": {
            **{key: str(payload.get(key) or "") for key in PERSON_KEYS},
            "preferred_language": str(payload.get("language") or ""),
        },
        "consent": {channel: channel in payload.get("consent", []) for channel in Channel.values},
        "consent_text_version": str(payload.get("consent_text_version") or ""),
        "attribution": {"campaign": str(campaign)[:200], "utm": attribution},
        "material_code": str(payload.get("material") or ""),
    }


def submission_receive(
    *, study_site: StudySite, payload: dict[str, Any], request: HttpRequest | None = None
) -> Submission:
    """Keep the submission as received; committed before anything else can fail."""
    with transaction.atomic():
        submission = Submission.objects.create(
            organization_id=study_site.organization_id,
            study_site=study_site,
            channel=Submission.Channel.WEB_FORM,
            payload=payload,
        )
        audit_record(
            action="submission.received",
            organization_id=study_site.organization_id,
            obj=submission,
            changes={"payload": {"phi": True}},
            request=request,
        )
    return submission


def submission_process(*, submission_id: int, request: HttpRequest | None = None) -> Lead | None:
    """Turn a received web form submission into a lead (or repeat interest on one).

    Safe to run twice, even at once: the submission row is locked, and one already processed is
    left alone. A failure keeps the submission unprocessed with its error, for the retry task.
    """
    try:
        with transaction.atomic():
            submission = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("study_site__organization")
                .filter(pk=submission_id, channel=Submission.Channel.WEB_FORM)
                .first()
            )
            if submission is None:
                return None
            if submission.processed_at is not None:
                return submission.lead
            result = intake(
                study_site=submission.study_site,
                source=Source.WEB_FORM,
                actor=Actor(user=None, request=request),
                received_at=submission.received_at,
                **intake_arguments(submission.payload),
            )
            submission.lead = result.lead
            submission.processed_at = timezone.now()
            submission.error = ""
            submission.save(update_fields=["lead", "processed_at", "error"])
            return result.lead
    except Exception as exc:  # kept for the retry task whatever went wrong
        # The exception's text may quote what the visitor typed: only its type reaches the logs.
        logger.warning(
            "Web form submission %s kept unprocessed for a retry (%s)",
            submission_id,
            type(exc).__name__,
        )
        try:
            Submission.objects.filter(pk=submission_id, processed_at__isnull=True).update(
                error=f"{type(exc).__name__}: {exc}"[:2000]
            )
        except DatabaseError:
            logger.warning("Could not record the error of web form submission %s", submission_id)
        return None


# Views --------------------------------------------------------------------------------------

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _plain(value: str, limit: int = 200) -> str:
    """Printable text only, without control characters, at most `limit` characters."""
    text = "".join(c for c in value if unicodedata.category(c)[0] != "C")
    return " ".join(text.split())[:limit]


def _referrer(value: str) -> str:
    """The referring page without its query string or fragment (they may carry anything)."""
    try:
        parts = urlsplit(_plain(value, 2000))
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:200]


def attribution_of(request: HttpRequest) -> dict[str, str]:
    """What brought the visitor: the study page's utm_* and campaign parameters and the page that
    linked to it. The form carries them as hidden fields, so the POST still has them."""
    if request.method == "POST":
        source, referrer = request.POST, request.POST.get("referrer", "")
    else:
        source, referrer = request.GET, request.META.get("HTTP_REFERER", "")
    values = {key: _plain(source.get(key, "")) for key in (*UTM_KEYS, "campaign")}
    values["referrer"] = _referrer(referrer)
    return {key: value for key, value in values.items() if value}


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A public page, with links to the same page in the other languages."""
    current = _language()
    context["other_languages"] = [
        {"code": code, "name": name, "url": translate_url(request.get_full_path(), code)}
        for code, name in settings.LANGUAGES
        if code != current
    ]
    return render(request, template, context, status=status)


def _client_ip(request: HttpRequest) -> str:
    # The address the sign-in lockout counts too (one trusted proxy hop when BEHIND_TLS_PROXY).
    return str(get_client_ip_address(request) or "unknown")


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    page = None
    results: list[dict[str, Any]] = []
    if form.is_valid():
        data = form.cleaned_data
        studies = search_studies(
            words=data["q"], condition=data["condition"], location=data["location"]
        )
        page = Paginator(studies, PAGE_SIZE).get_page(request.GET.get("page"))
        found = list(page.object_list)
        sites = sites_of(found, data["location"])
        results = [
            {
                "study": study,
                "sites": [{"study_site": s, "place": place_of(s)} for s in sites[study.pk]],
                "summary": summary_of(sites[study.pk][0], study)
                if sites[study.pk]
                else study.brief_summary,
            }
            for study in found
        ]
    context = {
        "form": form,
        "page": page,
        "results": results,
        "conditions": condition_suggestions(),
        "searched": any(request.GET.get(k) for k in ("q", "condition", "location")),
    }
    return _render(request, "public/search.html", context)


# The public catalog changes rarely and is read on every form post: each process keeps what it
# read for a short while. A StudySite paused meanwhile still receives interest for up to this
# long; its leads are then held ("study paused") like any other.
CATALOG_SECONDS = 30.0
_catalog: dict[str, tuple[float, tuple[Study, list[StudySite]] | None]] = {}
_site_studies: dict[str, tuple[float, Any]] = {}


def forget_catalog() -> None:
    """Drop what this process remembers of the public catalog."""
    _catalog.clear()
    _site_studies.clear()


def _study_or_404(code: Any) -> tuple[Study, list[StudySite]]:
    """A study with at least one recruiting StudySite, and those StudySites."""
    key, now = str(code), time.monotonic()
    cached = _catalog.get(key)
    if cached is None or cached[0] < now:
        cached = (now + CATALOG_SECONDS, _read_study(code))
        _catalog[key] = cached
    if cached[1] is None:
        raise Http404("This study is not recruiting.")
    return cached[1]


def _read_study(code: Any) -> tuple[Study, list[StudySite]] | None:
    study = (
        Study.objects.filter(code=code)
        .only("code", "brief_title", "conditions", "brief_summary")
        .first()
    )
    if study is None:
        return None
    sites = list(
        recruiting_study_sites()
        .filter(study=study)
        .select_related("site")
        .only(*SITE_FIELDS)
        .order_by("site__state", "site__city", "site__name", "id")
    )
    if not sites:
        return None
    return study, sites


@require_http_methods(["GET", "POST"])
def study_page(request: HttpRequest, code: Any) -> HttpResponse:
    study, sites = _study_or_404(code)
    return _interest(request, study, sites, entry=None)


def _study_code_of_site(code: str) -> Any:
    now = time.monotonic()
    cached = _site_studies.get(code)
    if cached is None or cached[0] < now:
        found = recruiting_study_sites().filter(code=code).values_list("study__code").first()
        cached = (now + CATALOG_SECONDS, found[0] if found else None)
        _site_studies[code] = cached
    return cached[1]


@require_http_methods(["GET", "POST"])
def study_site_page(request: HttpRequest, code: Any) -> HttpResponse:
    """The study page as one organization's site links to it: that site comes preselected."""
    study_code = _study_code_of_site(str(code))
    if study_code is None:
        raise Http404("No such recruiting study site.")
    study, sites = _study_or_404(study_code)
    entry = next((s for s in sites if str(s.code) == str(code)), None)
    if entry is None:
        raise Http404("No such recruiting study site.")
    return _interest(request, study, sites, entry=entry)


def _interest(
    request: HttpRequest, study: Study, sites: list[StudySite], entry: StudySite | None
) -> HttpResponse:
    attribution = attribution_of(request)
    refusal: str | Promise = ""
    status = 200
    if request.method == "POST":
        form = InterestForm(request.POST, sites=sites)
        if request.POST.get(HONEYPOT):
            refusal = _(
                "Sorry, we could not accept this form. Please try again, or contact the study "
                "site directly."
            )
            status = 400
        elif form.is_valid():
            if ratelimit.allow(settings.INTEREST_RATE_LIMIT, "interest", _client_ip(request)):
                study_site = form.study_site(entry)
                payload = submission_payload(form, language=_language(), attribution=attribution)
                submission = submission_receive(
                    study_site=study_site, payload=payload, request=request
                )
                # The lead is made by a worker: the visitor's answer never waits on intake,
                # and a submission whose processing fails is already safe in the database.
                from leads.tasks import process_submission

                try:
                    process_submission.delay(submission.pk)
                except Exception:  # the broker is down: the retry task will pick it up
                    logger.warning("Could not queue web form submission %s", submission.pk)
                return redirect("public_thanks", code=study.code)
            refusal = _(
                "Many forms were sent from your connection in a short time, so we could not "
                "accept this one. Please wait an hour and try again, or contact the study site "
                "directly."
            )
            status = 429
    else:
        initial = {
            "site": str(entry.code) if entry else ANY_SITE,
            "material": _plain(request.GET.get("material", ""), 60),
        }
        form = InterestForm(initial=initial, sites=sites)
    context = {
        "study": study,
        "sites": [
            {"study_site": s, "place": place_of(s), "summary": summary_of(s, study)} for s in sites
        ],
        "form": form,
        "attribution": attribution,
        "refusal": refusal,
        "consent_version": consent_text_version(_language()),
        "honeypot": HONEYPOT,
        "action": request.path,
    }
    return _render(request, "public/study.html", context, status=status)


@require_GET
def thanks(request: HttpRequest, code: Any) -> HttpResponse:
    # Only the study must exist: a study that stopped recruiting a moment after the visitor sent
    # the form still thanks them.
    study = Study.objects.filter(code=code).only("code", "brief_title").first()
    if study is None:
        raise Http404("No such study.")
    search_url = reverse("public_search")
    return _render(request, "public/thanks.html", {"study": study, "search_url": search_url})
