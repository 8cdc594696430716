from __future__ import annotations

from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse_lazy

from trialsnest.audit.services import audit_record


class AcceptInvitationView(PasswordResetConfirmView):
    """An invited user chooses their password through a password-reset token."""

    template_name = "registration/accept_invitation.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:  # type: ignore[type-arg]
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                action="auth.invitation_accepted",
                actor=form.user,
                obj=form.user,
                request=self.request,
            )
        return response


accept_invitation = AcceptInvitationView.as_view()
