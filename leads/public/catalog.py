"""The public study catalog: search, locations, and the recruiting StudySites of a study.

Shows the shared catalog and the recruiting sites only, never anyone's data. The catalog
changes rarely and is read on every form post, so each process keeps what it read for a short
while.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchRank
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.http import Http404

from trialsnest.studies.models import RecruitmentStatus, Study, StudySite
from trialsnest.studies.search import WordsQuery, words_query

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


# What a result card and a study page show of a study.
STUDY_FIELDS = (
    "code",
    "brief_title",
    "official_title",
    "acronym",
    "conditions",
    "interventions",
    "keywords",
    "brief_summary",
)


def search_studies(*, words: str = "", condition: str = "", location: str = "") -> QuerySet[Study]:
    """Studies with a recruiting StudySite that matches, best match first: a title that is the
    words typed, then studies with every word whole, then the rest of the matches by rank."""
    sites = recruiting_study_sites().filter(study_id=OuterRef("pk"))
    if location:
        sites = sites.filter(location_q(location))
    studies = Study.objects.only(*STUDY_FIELDS)
    if condition:
        joined = Func(
            F("conditions"), Value("\n"), function="array_to_string", output_field=TextField()
        )
        studies = studies.alias(condition_text=joined).filter(condition_text__icontains=condition)
    if not words:
        return studies.filter(Exists(sites)).order_by("brief_title", "id")
    query = words_query(words)
    if query is None:  # punctuation only: nothing to look for
        return studies.none()
    found = sites.filter(search_vector=query.matches)
    best = found.annotate(match_rank=_match_rank(query)).order_by("-match_rank")
    typed = " ".join(words.split())
    title = (
        Q(brief_title__iexact=typed) | Q(official_title__iexact=typed) | Q(acronym__iexact=typed)
    )
    return (
        studies.filter(Exists(found))
        .alias(
            exact_title=Case(When(title, then=True), default=False, output_field=BooleanField()),
            whole_words=Exists(found.filter(search_vector=query.exact)),
            match_rank=Subquery(best.values("match_rank")[:1]),
        )
        .order_by("-exact_title", "-whole_words", "-match_rank", "brief_title", "id")
    )


def _match_rank(query: WordsQuery) -> SearchRank:
    return SearchRank(F("search_vector"), query.matches)


# What a public page shows of a StudySite and its site: nothing organization-internal.
SITE_FIELDS = (
    "code",
    "organization_id",
    "study_id",
    "lay_summary",
    "lay_summary_es",
    "rank",
    "site__name",
    "site__address",
    "site__city",
    "site__state",
    "site__postal_code",
    "site__country",
)


def sites_of(
    studies: list[Study], location: str = "", words: str = ""
) -> dict[int, list[StudySite]]:
    """The recruiting StudySites of these studies (those at `location` when given), per study;
    with `words`, each with how well it matches them (`match_rank`)."""
    sites = (
        recruiting_study_sites()
        .filter(study_id__in=[s.pk for s in studies])
        .select_related("site")
        .only(*SITE_FIELDS)
        .order_by("site__state", "site__city", "site__name", "id")
    )
    if location:
        sites = sites.filter(location_q(location))
    query = words_query(words) if words else None
    if query is not None:
        sites = sites.annotate(match_rank=_match_rank(query))
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


@dataclass(frozen=True)
class Summary:
    text: str
    language: str  # what it is written in, for the page's lang attribute


def summary_of(study_site: StudySite | None, study: Study, language: str = "en") -> Summary:
    """The site's lay summary (its Spanish one on a Spanish page, when it wrote one), else the
    registry's brief summary, which is in English."""
    if study_site is not None:
        if language == "es" and study_site.lay_summary_es.strip():
            return Summary(study_site.lay_summary_es.strip(), "es")
        if study_site.lay_summary.strip():
            return Summary(study_site.lay_summary.strip(), "en")
    return Summary(study.brief_summary.strip(), "en")


def best_match(sites: list[StudySite]) -> StudySite | None:
    """The StudySite whose words a result card shows: the one that matches the search best
    (sites_of with words), else the first."""
    return max(sites, key=lambda s: getattr(s, "match_rank", 0), default=None)


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


def study_or_404(code: Any) -> tuple[Study, list[StudySite]]:
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
    study = Study.objects.filter(code=code).only(*STUDY_FIELDS).first()
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


def study_code_of_site(code: str) -> Any:
    now = time.monotonic()
    cached = _site_studies.get(code)
    if cached is None or cached[0] < now:
        found = recruiting_study_sites().filter(code=code).values_list("study__code").first()
        cached = (now + CATALOG_SECONDS, found[0] if found else None)
        _site_studies[code] = cached
    return cached[1]
