from __future__ import annotations

from django.urls import path

from trialsnest.tenancy import site_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/", views.choose_organization, name="choose_organization"),
    path(
        "organizations/invitations/<uuid:code>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "organizations/invitations/<uuid:code>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
    path("away/", views.away, name="away"),
    path("settings/", views.settings_users, name="settings_users"),
    path("settings/users/invite/", views.settings_user_invite, name="settings_user_invite"),
    path("settings/two-factor/", views.settings_two_factor, name="settings_two_factor"),
    path("settings/users/<uuid:code>/", views.settings_user_edit, name="settings_user_edit"),
    path(
        "settings/users/<uuid:code>/deactivate/",
        views.settings_user_deactivate,
        name="settings_user_deactivate",
    ),
    path(
        "settings/users/<uuid:code>/reactivate/",
        views.settings_user_reactivate,
        name="settings_user_reactivate",
    ),
    path(
        "settings/users/<uuid:code>/resend/",
        views.settings_user_resend,
        name="settings_user_resend",
    ),
    path("settings/sites/", site_views.settings_sites, name="settings_sites"),
    path("settings/sites/new/", site_views.settings_site_new, name="settings_site_new"),
    path(
        "settings/sites/timezone/", site_views.settings_site_timezone, name="settings_site_timezone"
    ),
    path("settings/sites/<uuid:code>/", site_views.settings_site_edit, name="settings_site_edit"),
    path("settings/studies/", site_views.settings_study_sites, name="settings_study_sites"),
    path(
        "settings/studies/new/", site_views.settings_study_site_new, name="settings_study_site_new"
    ),
    path(
        "settings/studies/<uuid:code>/",
        site_views.settings_study_site_edit,
        name="settings_study_site_edit",
    ),
]
