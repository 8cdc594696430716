"""The organization's provider directory: any member may look a provider up or add one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from records import selectors, services
from records.forms import ProviderForm
from records.gatekeepers import get_provider_for_user
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import active_membership, member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def provider_list(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = ProviderForm(request.POST or None, organization_id=membership.organization_id)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.provider_create(
                    organization_id=membership.organization_id,
                    actor=Actor.of(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Added {form.cleaned_data['practice']}.")
                return redirect("records_providers")
        status = 422
    context = {"providers": list(selectors.providers(membership)), "form": form}
    return render(request, "records/providers.html", context, status=status)


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def provider_edit(request: TenantRequest, code: str) -> HttpResponse:
    provider = get_provider_for_user(request, code)
    form = ProviderForm(
        request.POST or None, instance=provider, organization_id=provider.organization_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.provider_update(
                provider=provider, actor=Actor.of(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Saved {provider.practice}.")
            return redirect("records_providers")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "records/provider_edit.html", {"provider": provider, "form": form}, status=status
    )
