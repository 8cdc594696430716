"""Two-factor sign-in: an authenticator app (TOTP, django-otp) and ten single-use recovery codes.

A user who enrolled is asked for a code after their password at every sign-in; a member of an
organization that requires it (Organization.two_factor_required) enrols at their next request
(TwoFactorMiddleware). A TOTP code is refused a second time (django-otp keeps the last time step
used) and wrong codes are throttled; a recovery code works once. Every outcome is audited, and
the session key changes once the second factor is given.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass

import segno
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from trialsnest.accounts.models import User
from trialsnest.audit.services import audit_record

RECOVERY_CODES = 10
APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    secret: str  # base32, for typing into the app by hand
    qr_svg_data_uri: str


def enrolment_for(user: User) -> Enrolment:
    """The unconfirmed authenticator of this enrolment (made once, kept until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)
    secret = b32encode(device.bin_key).decode().rstrip("=")
    qr = segno.make(device.config_url, error="m")
    return Enrolment(device, secret, qr.svg_data_uri(scale=5, border=2))


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


@transaction.atomic
def enrol_confirm(request: HttpRequest, user: User, code: str) -> list[str] | None:
    """The first code from the app confirms it: the user is enrolled and verified in this
    session, and gets new recovery codes (returned once, to show). None: the code is wrong."""
    enrolment = enrolment_for(user)
    device = TOTPDevice.objects.select_for_update().get(pk=enrolment.device.pk)
    if not device.verify_token(normalise(code)):
        _audit(request, user, "auth.two_factor_refused", "enrolment code")
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    User.objects.filter(pk=user.pk).update(two_factor_enabled=True)
    user.two_factor_enabled = True
    _audit(request, user, "auth.two_factor_enrolled")
    _verified(request, device)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def recovery_codes_renew(request: HttpRequest, user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    _audit(request, user, "auth.recovery_codes_renewed")
    return codes


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user).count())


def verify(request: HttpRequest, user: User, code: str) -> str | None:
    """The second factor at sign-in: the app's code, else a recovery code (used up). Returns
    what was used ("app" or "recovery code"), or None when the code is refused."""
    token = normalise(code)
    for device, used in (
        (TOTPDevice.objects.filter(user=user, confirmed=True).first(), "app"),
        (StaticDevice.objects.filter(user=user, confirmed=True).first(), "recovery code"),
    ):
        if device is None:
            continue
        with transaction.atomic():
            # Locked, so that the throttle and a used token are seen by the next attempt.
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(token):  # throttled after failures (django-otp)
                _audit(request, user, "auth.two_factor_verified", used)
                _verified(request, locked)
                return used
    _audit(request, user, "auth.two_factor_refused", "sign-in code")
    return None


def _verified(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    otp_login(request, device)
    request.session.cycle_key()  # a new session id once the second factor is given


def _audit(request: HttpRequest, user: User, action: str, reason: str = "") -> None:
    audit_record(action=action, actor=user, obj=user, reason=reason, request=request)
