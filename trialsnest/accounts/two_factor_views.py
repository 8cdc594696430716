"""The second-factor pages: the code after the password, and enrolling an authenticator app."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp_webauthn.models import WebAuthnCredential

from trialsnest.accounts import passkeys, recent, two_factor
from trialsnest.accounts.models import User
from trialsnest.audit.services import audit_record
from trialsnest.tenancy.http import TenantRequest


class ConfirmForm(forms.Form):
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ConfirmWithCodeForm(ConfirmForm):
    code = forms.CharField(
        label="Code from your authenticator app (or a recovery code)",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next(request: TenantRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


def _user(request: TenantRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: TenantRequest) -> HttpResponse:
    user = _user(request)
    if not user.two_factor_enabled:
        return redirect("two_factor_setup")
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        used = two_factor.verify(request, user, form.cleaned_data["code"])
        if used is not None:
            if used == "recovery code" and two_factor.recovery_codes_left(user) <= 2:
                return redirect("two_factor_codes")
            return redirect(_next(request))
        form.add_error("code", "That code is not right, or was used already. Try the next one.")
    context = {"form": form, "next": _next(request), "passkey": passkeys.has_passkey(user)}
    return render(request, "registration/two_factor_verify.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: TenantRequest) -> HttpResponse:
    user = _user(request)
    if user.two_factor_enabled and not user.is_verified():  # type: ignore[attr-defined]
        return redirect_to_login(request.get_full_path(), "two_factor_verify")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.enrol_confirm(request, user, form.cleaned_data["code"])
        if codes is not None:
            context = {"codes": codes, "next": _next(request)}
            return render(request, "registration/two_factor_codes.html", context)
        form.add_error("code", "That code is not right. Check your phone's clock and try again.")
    enrolment = two_factor.enrolment_for(user)
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "next": _next(request),
            "secret": enrolment.secret,
            "qr": enrolment.qr_svg_data_uri,
            "required": request.two_factor_required,
            "renewing": user.two_factor_enabled,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def codes(request: TenantRequest) -> HttpResponse:
    """How many recovery codes are left, and new ones (the old ones stop working)."""
    user = _user(request)
    if not user.two_factor_enabled:
        return redirect("two_factor_setup")
    fresh = two_factor.recovery_codes_renew(request, user) if request.method == "POST" else None
    return render(
        request,
        "registration/two_factor_codes.html",
        {
            "codes": fresh,
            "left": two_factor.recovery_codes_left(user),
            "next": "/",
            "passkeys": passkeys.passkeys_of(user),
        },
    )


@login_required
@require_POST
@recent.recent_sign_in_required
def passkey_remove(request: TenantRequest, pk: int) -> HttpResponse:
    """Remove one of the member's own passkeys (anyone else's is a 404), after the password
    again when the sign-in is not recent: a second factor is not taken away by a stolen tab."""
    credential = get_object_or_404(WebAuthnCredential, pk=pk, user=_user(request), confirmed=True)
    if passkeys.passkey_remove(request, credential):
        messages.success(request, "Passkey removed. You signed in with it: give your code once.")
    else:
        messages.success(request, "Passkey removed. It no longer signs you in.")
    return redirect("two_factor_codes")


@login_required
@require_http_methods(["GET", "POST"])
def confirm(request: TenantRequest) -> HttpResponse:
    """The password (and the code) again, before an export, a merge, a new API key or a role
    change, when the sign-in is more than REAUTH_MINUTES old."""
    user = _user(request)
    form_class = ConfirmWithCodeForm if user.two_factor_enabled else ConfirmForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if authenticate(request, username=user.email, password=data["password"]) is None:
            audit_record(action="auth.confirm_refused", actor=user, obj=user, request=request,
                         reason="password")  # fmt: skip
            form.add_error("password", "That password is not right.")
        elif user.two_factor_enabled and two_factor.verify(request, user, data["code"]) is None:
            form.add_error("code", "That code is not right, or was used already.")
        else:
            recent.mark_confirmed(request)
            audit_record(action="auth.confirmed", actor=user, obj=user, request=request)
            return redirect(_next(request))
    context = {"form": form, "next": _next(request), "minutes": settings.REAUTH_MINUTES}
    return render(request, "registration/confirm_identity.html", context)
