from __future__ import annotations

from django.urls import include, path

from trialsnest.accounts.views import accept_invitation, healthz

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "accounts/welcome/<uidb64>/<token>/",
        accept_invitation,
        name="accept_invitation",
    ),
    path("healthz", healthz, name="healthz"),
    path("", include("trialsnest.tenancy.urls")),
    path("", include("leads.urls")),
    path("", include("reporting.urls")),
]
