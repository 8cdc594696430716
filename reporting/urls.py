from __future__ import annotations

from django.urls import path

from reporting import review_views, update_views, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.dashboard_csv, name="dashboard_csv"),
    path("dashboard/leads/", views.dashboard_leads, name="dashboard_leads"),
    path("dashboard/changes/", views.dashboard_changes, name="dashboard_changes"),
    path("reviews/", review_views.weekly_review, name="weekly_review"),
    path(
        "reviews/actions/<uuid:code>/done/",
        review_views.action_item_mark_done,
        name="action_item_done",
    ),
    path("reports/", views.sponsor_reports, name="sponsor_reports"),
    path(
        "study-sites/<uuid:code>/sponsor-updates/",
        update_views.sponsor_updates,
        name="sponsor_updates",
    ),
    path(
        "study-sites/<uuid:code>/sponsor-updates/new/",
        update_views.sponsor_update_new,
        name="sponsor_update_new",
    ),
    path(
        "sponsor-updates/<uuid:code>/", update_views.sponsor_update_edit, name="sponsor_update_edit"
    ),
    path("reports/updates/<uuid:code>/", update_views.sponsor_update_page, name="sponsor_update"),
    path("reports/<str:code>/", views.sponsor_report_page, name="sponsor_report"),
    path("reports/<str:code>/export.csv", views.sponsor_report_csv, name="sponsor_report_csv"),
]
