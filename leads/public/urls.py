"""Public pages, under i18n_patterns: /studies/... in English, /es/studies/... in Spanish."""

from __future__ import annotations

from django.urls import path

from leads.public import views as public

urlpatterns = [
    path("studies/", public.search, name="public_search"),
    path("studies/<uuid:code>/", public.study_page, name="public_study"),
    path("studies/<uuid:code>/thanks/", public.thanks, name="public_thanks"),
    path("studies/sites/<uuid:code>/", public.study_site_page, name="public_study_site"),
]
