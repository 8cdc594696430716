from __future__ import annotations

from django.urls import path

from reporting import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/", views.sponsor_reports, name="sponsor_reports"),
]
