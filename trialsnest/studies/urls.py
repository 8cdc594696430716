from __future__ import annotations

from django.urls import path

from trialsnest.studies import views

urlpatterns = [
    path("settings/studies/import/", views.settings_study_import, name="settings_study_import"),
]
