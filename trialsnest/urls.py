from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from leads.api.app import api
from leads.api.docs import api_docs_asset
from trialsnest.accounts import passkeys, two_factor_views
from trialsnest.accounts.views import accept_invitation
from trialsnest.ops.views import healthz, jobs

urlpatterns = [
    path("accounts/two-factor/", two_factor_views.verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", two_factor_views.setup, name="two_factor_setup"),
    path("accounts/two-factor/codes/", two_factor_views.codes, name="two_factor_codes"),
    path(
        "accounts/two-factor/passkeys/<int:pk>/remove/",
        two_factor_views.passkey_remove,
        name="passkey_remove",
    ),
    path("accounts/passkeys/", include(passkeys)),
    path("accounts/confirm/", two_factor_views.confirm, name="confirm_identity"),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "accounts/welcome/<uidb64>/<token>/",
        accept_invitation,
        name="accept_invitation",
    ),
    path("healthz", healthz, name="healthz"),
    path("jobs/", jobs, name="jobs"),
    path("api/docs/assets/<str:name>", api_docs_asset, name="api_docs_asset"),
    path("api/", api.urls),
    path("", include("trialsnest.tenancy.urls")),
    path("", include("trialsnest.audit.urls")),
    path("", include("trialsnest.studies.urls")),
    path("", include("trialsnest.notifications.urls")),
    path("", include("leads.urls")),
    path("", include("records.urls")),
    path("", include("prescreen.urls")),
    path("", include("scheduling.urls")),
    path("", include("reporting.urls")),
]
# The public pages in every language: English without a prefix, Spanish under /es/.
urlpatterns += i18n_patterns(path("", include("leads.public.urls")), prefix_default_language=False)
