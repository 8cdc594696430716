"""The public pages: study search, study pages and the interest form. No sign-in.

Server-rendered, usable without JavaScript, in English (/studies/) and Spanish (/es/studies/).
A submission is saved exactly as it arrived before anything else can fail, and a worker makes
the lead (leads/intake/submissions.py); the visitor is thanked either way.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from leads.intake.submissions import submission_receive
from leads.models import Submission
from leads.public.catalog import (
    PAGE_SIZE,
    best_match,
    condition_suggestions,
    place_of,
    search_studies,
    sites_of,
    study_code_of_site,
    study_or_404,
    summary_of,
)
from leads.public.forms import (
    ANY_SITE,
    HONEYPOT,
    InterestForm,
    SearchForm,
    consent_text_version,
    submission_payload,
)
from prescreen.public import self_prescreen_for
from trialsnest.audit.services import Actor
from trialsnest.lib import ratelimit
from trialsnest.lib.client_ip import client_ip
from trialsnest.ops.outbox import enqueue_swept
from trialsnest.studies.models import Study, StudySite

logger = logging.getLogger(__name__)

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


def _translated() -> bool:
    """A page in another language than English: the registry's titles and summaries in it are
    in English only, which the page says and marks (lang="en")."""
    return not _language().startswith("en")


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
    # The address the sign-in lockout counts too (the proxy's X-Forwarded-For when behind one).
    return client_ip(request) or "unknown"


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
        sites = sites_of(found, data["location"], data["q"])
        results = [
            {
                "study": study,
                "sites": [{"study_site": s, "place": place_of(s)} for s in sites[study.pk]],
                # The card says what the best-matching site says of the study.
                "summary": summary_of(best_match(sites[study.pk]), study, _language()),
            }
            for study in found
        ]
    context = {
        "form": form,
        "page": page,
        "results": results,
        "conditions": condition_suggestions(),
        "searched": any(request.GET.get(k) for k in ("q", "condition", "location")),
        "translated": _translated(),
    }
    return _render(request, "public/search.html", context)


@require_http_methods(["GET", "POST"])
def study_page(request: HttpRequest, code: Any) -> HttpResponse:
    study, sites = study_or_404(code)
    return _interest(request, study, sites, entry=None)


@require_http_methods(["GET", "POST"])
def study_site_page(request: HttpRequest, code: Any) -> HttpResponse:
    """The study page as one organization's site links to it: that site comes preselected."""
    study_code = study_code_of_site(str(code))
    if study_code is None:
        raise Http404("No such recruiting study site.")
    study, sites = study_or_404(study_code)
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
    data = request.POST if request.method == "POST" else None
    self_prescreen = self_prescreen_for(sites, entry, data, _language())
    if request.method == "POST":
        form = InterestForm(request.POST, sites=sites, entry=entry)
        answers_valid = self_prescreen is None or self_prescreen.form.is_valid()
        if request.POST.get(HONEYPOT):
            refusal = _(
                "Sorry, we could not accept this form. Please try again, or contact the study "
                "site directly."
            )
            status = 400
        elif form.is_valid() and answers_valid:
            if ratelimit.allow(settings.INTEREST_RATE_LIMIT, "interest", _client_ip(request)):
                study_site = form.study_site()
                payload = submission_payload(form, language=_language(), attribution=attribution)
                if self_prescreen is not None:
                    payload["prescreen"] = self_prescreen.payload()
                # The lead is made by a worker: the visitor's answer never waits on intake
                # or on the broker. The kept submission is the work (retry_submissions finds
                # any not yet a lead), so a failure of either later loses nothing.
                with transaction.atomic():
                    submission = submission_receive(
                        channel=Submission.Channel.WEB_FORM,
                        study_site=study_site,
                        payload=payload,
                        actor=Actor(user=None, request=request),
                    )
                    enqueue_swept("leads.tasks.process_submission", submission.pk)
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
        form = InterestForm(initial=initial, sites=sites, entry=entry)
    context = {
        "study": study,
        "sites": [
            {"study_site": s, "place": place_of(s), "summary": summary_of(s, study, _language())}
            for s in sites
        ],
        "translated": _translated(),
        "form": form,
        "self_prescreen": self_prescreen,
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
