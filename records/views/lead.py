"""A lead's records: the panel of the lead page, the actions on one item, the request letters.

Each action's form loads into the panel with htmx and is its own page without JavaScript;
after a save both show the lead page again (its head shows the blocker and next action the
change set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from leads.gatekeepers import get_lead_for_user
from leads.models import Lead
from records import selectors, services
from records.dates import site_today
from records.forms import FollowUpForm, ItemForm, ReceiveForm, RequestForm, ReviewForm
from records.gatekeepers import get_record_item_for_lead
from records.models import ItemState, RecordItem
from records.presenters import ACTIONS, lead_records_panel
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import active_membership, member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest


@dataclass(frozen=True)
class ItemAction:
    title: str
    form: type[ItemForm]
    apply: Callable[[RecordItem, dict[str, Any], Actor], object]


ITEM_ACTIONS: dict[str, ItemAction] = {
    "request": ItemAction(
        "Request the record",
        RequestForm,
        lambda item, data, actor: services.record_item_request(item=item, actor=actor, **data),
    ),
    "follow-up": ItemAction(
        "Follow up the request",
        FollowUpForm,
        lambda item, data, actor: services.record_item_follow_up(item=item, actor=actor, **data),
    ),
    "receive": ItemAction(
        "Mark the record received",
        ReceiveForm,
        lambda item, data, actor: services.record_item_receive(item=item, actor=actor, **data),
    ),
    "review": ItemAction(
        "Review the record",
        ReviewForm,
        lambda item, data, actor: services.record_item_review(item=item, actor=actor, **data),
    ),
}


@not_for_sponsors
@member_required()
@require_GET
def lead_records(request: TenantRequest, code: str) -> HttpResponse:
    """The records panel: the lead page's fragment for htmx, its own page otherwise."""
    lead = get_lead_for_user(request, code)
    context = {"lead": lead, "records": lead_records_panel(lead)}
    if request.htmx:
        return render(request, "records/_lead_panel.html", context)
    return render(request, "records/lead_records.html", context)


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def item_action(request: TenantRequest, code: str, item: str, action: str) -> HttpResponse:
    lead = get_lead_for_user(request, code)
    record_item = get_record_item_for_lead(lead, item)
    act = ITEM_ACTIONS[action]
    if action not in {key for key, _ in ACTIONS[record_item.state]}:
        raise Http404("Not an action for this record as it is.")
    today = site_today(lead.study_site.site, timezone.now())
    form = act.form(
        request.POST if request.method == "POST" else None,
        membership=active_membership(request),
        today=today,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                act.apply(record_item, form.cleaned_data, Actor.of(request))
            except ValidationError as error:
                add_errors(form, error)
            else:
                return _after_write(request, lead, f"{record_item.requirement.name}: saved.")
        status = 422
    context = {
        "lead": lead,
        "item": record_item,
        "form": form,
        "action": action,
        "title": act.title,
        "url": request.path,
    }
    if request.htmx:
        # htmx swaps only 2xx answers: a form with errors comes back as 200.
        return render(request, "records/item_action.html#item_form", context)
    return render(request, "records/item_action.html", context, status=status)


def _after_write(request: TenantRequest, lead: Lead, message: str) -> HttpResponse:
    messages.success(request, f"{lead.person.full_name} · {message}")
    if request.htmx:
        # A reload of the lead page (a redirect to its own address and #records would only
        # scroll): its head shows the blocker and next action the change set.
        return HttpResponseClientRefresh()
    return redirect(reverse("lead_detail", kwargs={"code": lead.code}) + "#records")


@not_for_sponsors
@member_required()
@require_GET
def letters(request: TenantRequest, code: str) -> HttpResponse:
    """One printable page per provider with outstanding requests of this lead."""
    lead = get_lead_for_user(request, code)
    items = [item for item in selectors.lead_items(lead) if item.state == ItemState.REQUESTED]
    items.sort(key=lambda item: (item.provider.practice if item.provider else "", item.pk))
    pages = []
    for _, group in groupby(items, key=lambda item: item.provider_id):
        requested = list(group)
        pages.append(
            {
                "provider": requested[0].provider,
                "items": requested,
                "authorized": all(item.authorization_on_file for item in requested),
                "due_on": min(item.due_on for item in requested if item.due_on),
            }
        )
    context = {
        "lead": lead,
        "person": lead.person,
        "pages": pages,
        "today": site_today(lead.study_site.site, timezone.now()),
    }
    return render(request, "records/letters.html", context)
