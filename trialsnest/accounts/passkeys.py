"""Passkeys (WebAuthn, with django-otp-webauthn) as the stronger second factor.

A member who has two-factor sign-in on (an authenticator app and recovery codes) may add
passkeys on their Security page; at the next sign-in the code page offers "Use a passkey"
beside the code. A passkey is a second factor only: the password comes first (no passwordless
sign-in), and after it the session id changes and the sign-in is audited, as with a code.

The relying party is the host the member signed in at (validated by ALLOWED_HOSTS), its
origin the scheme and host of that request (https behind the proxy: SECURE_PROXY_SSL_HEADER).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp_webauthn import views
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from trialsnest.accounts.models import User
from trialsnest.audit.services import audit_record


class PasskeyHelper(WebAuthnHelper):  # type: ignore[misc]
    def get_relying_party_domain(self) -> str:
        return str(self.request.get_host().rsplit(":", 1)[0])

    def get_relying_party_name(self) -> str:
        return "TrialsNest"

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]


def has_passkey(user: User) -> bool:
    return bool(WebAuthnCredential.objects.filter(user=user, confirmed=True).exists())


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))


def _audit(request: HttpRequest, action: str, reason: str = "") -> None:
    user = request.user
    assert isinstance(user, User)  # both ceremonies need a signed-in user
    audit_record(action=action, actor=user, obj=user, reason=reason, request=request)


@transaction.atomic
def passkey_remove(request: HttpRequest, credential: WebAuthnCredential) -> bool:
    """Remove one of the member's passkeys, audited. Returns whether it verified this session,
    which then asks for the code again (django_otp no longer finds its device)."""
    verified_this = bool(request.session.get(DEVICE_ID_SESSION_KEY) == credential.persistent_id)
    name = credential.name or "Passkey"
    credential.delete()
    _audit(request, "auth.passkey_removed", name)
    return verified_this


class TwoFactorFirst(OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 403
    default_detail = "Turn on two-factor sign-in with an authenticator app first."
    default_code = "two_factor_first"


class _OnTopOfTwoFactor:
    """A passkey is added by someone whose two-factor sign-in is on (and this session verified
    by it, which the package checks): never as the first factor of a password-only account."""

    request: HttpRequest

    def check_can_register(self) -> None:
        user = self.request.user
        if not getattr(user, "two_factor_enabled", False):
            raise TwoFactorFirst()


class RegisterBegin(_OnTopOfTwoFactor, views.BeginCredentialRegistrationView):  # type: ignore[misc]
    pass


class RegisterComplete(_OnTopOfTwoFactor, views.CompleteCredentialRegistrationView):  # type: ignore[misc]
    """Adds the passkey, audited."""

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        response: JsonResponse = super().post(*args, **kwargs)
        _audit(self.request, "auth.passkey_added")
        return response


class AuthenticateComplete(views.CompleteCredentialAuthenticationView):  # type: ignore[misc]
    """The passkey as the second factor of a signed-in member."""

    def complete_auth(self, device: WebAuthnCredential) -> None:
        otp_login(self.request, device)
        self.request.session.cycle_key()  # a new session id once the second factor is given
        _audit(self.request, "auth.two_factor_verified", "passkey")


app_name = "otp_webauthn"  # the name the package's scripts reverse their endpoints by
urlpatterns = [
    path(
        "registration/begin/",
        RegisterBegin.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        RegisterComplete.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        views.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        AuthenticateComplete.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
