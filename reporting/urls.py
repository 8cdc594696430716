from __future__ import annotations

from django.urls import path

from reporting import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.dashboard_csv, name="dashboard_csv"),
    path("dashboard/leads/", views.dashboard_leads, name="dashboard_leads"),
    path("reports/", views.sponsor_reports, name="sponsor_reports"),
    path("reports/<str:code>/", views.sponsor_report_page, name="sponsor_report"),
    path("reports/<str:code>/export.csv", views.sponsor_report_csv, name="sponsor_report_csv"),
]
