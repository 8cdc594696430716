"""The coordinator queue: tabs, filters, keyset pages, search, bulk changes and saved views."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import quote, urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from leads import selectors, services
from leads.actions import ROW_ACTIONS
from leads.forms import BulkForm, SavedViewForm, SearchForm
from leads.gatekeepers import get_own_bulk_change_for_user, get_saved_view_for_user
from leads.models import ActionKind, Blocker, BulkChange, CloseReason, Lead, Source, Status
from leads.presenters import queue_row, reason, undo_message
from leads.queue_notes import queue_notes
from leads.signals import queue_rows_shown
from trialsnest.audit.services import Actor, audit_record
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Membership
from trialsnest.tenancy.selectors import visible_study_sites


def next_url(request: TenantRequest, default: str) -> str:
    """Where to go after a write: the page the form came from, if it is ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}):
        return url
    return default


def tab_of(query: QueryDict) -> str:
    tab = query.get("tab", "due")
    return tab if tab in selectors.TAB_KEYS else "due"


def tab_of_url(url: str) -> str:
    """The queue tab a queue address shows (a row re-rendered after a save keeps its tab's
    reason)."""
    return tab_of(QueryDict(urlsplit(url).query))


def row_reasons(leads: list[Lead], tab: str, now: datetime) -> dict[int, str]:
    """Reasons other apps know better for some of these rows (leads/signals.py)."""
    reasons: dict[int, str] = {}
    for _, answer in queue_rows_shown.send(sender=Lead, leads=leads, tab=tab, now=now):
        reasons.update(cast(dict[int, str], answer))
    return reasons


def _queue_context(request: TenantRequest, query: QueryDict) -> dict[str, Any]:
    membership = active_membership(request)
    now = timezone.now()
    tab = tab_of(query)
    filters = selectors.QueueFilters.parse(query)
    after = selectors.parse_cursor(query.get("after", ""))
    rows = selectors.queue_rows(
        membership, tab=tab, filters=filters, now=now, after=after, limit=selectors.PAGE_SIZE + 1
    )
    more = len(rows) > selectors.PAGE_SIZE
    rows = rows[: selectors.PAGE_SIZE]
    whys = row_reasons(rows, tab, now)
    # Where a row's action returns after a save without JavaScript: this page of the queue
    # (a "Show more" answer returns to the page its cursor starts).
    back = request.get_full_path()
    more_query = QueryDict(mutable=True)
    more_query.update({"tab": tab, "after": selectors.cursor_of(rows[-1]) if more else ""})
    for name in selectors.QueueFilters.NAMES:
        if value := getattr(filters, name):
            more_query[name] = value
    return {
        "now": now,
        "tab": tab,
        "filters": filters,
        "rows": [queue_row(lead, now, tab, back, whys.get(lead.pk)) for lead in rows],
        "row_actions": ROW_ACTIONS,
        "more_url": f"?{more_query.urlencode()}" if more else "",
        "filter_query": filters.query_string(),
        "membership": membership,
    }


@member_required()
@require_GET
def queue(request: TenantRequest) -> HttpResponse:
    context = _queue_context(request, request.GET)
    if request.htmx and request.GET.get("after"):
        return render(request, "leads/queue.html#more_rows", context)
    membership = context["membership"]
    now, filters = context["now"], context["filters"]
    counts = selectors.queue_counts(membership, filters, now)
    study_sites = list(
        visible_study_sites(membership).select_related("site", "study").order_by("site__name")
    )
    context.update(
        tabs=[(key, label, counts[key]) for key, label in selectors.TABS],
        saved_views=list(selectors.saved_views(membership).select_related("owner__user")),
        sites=sorted({ss.site for ss in study_sites}, key=lambda s: s.name),
        studies=sorted({ss.study for ss in study_sites}, key=lambda s: s.brief_title),
        owners=list(
            Membership.objects.filter(organization_id=membership.organization_id, is_active=True)
            .select_related("user")
            .order_by("user__first_name")
        ),
        sources=Source.choices,
        statuses=[(s, Status(s).label) for s in Status.values if s not in ("handed_off", "closed")],
        blockers=Blocker.choices,
        bulk_form=BulkForm(membership=membership),
        notes=queue_notes(membership),
        action_kinds=ActionKind.choices,
        close_reasons=CloseReason.choices,
    )
    if request.htmx and request.htmx.target in ("queue", "tabs"):
        return render(request, "leads/queue.html#queue", context)
    return render(request, "leads/queue.html", context)


@member_required()
@require_GET
def queue_search(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = SearchForm(request.GET)
    valid = form.is_valid()
    text = form.cleaned_data["q"] if valid else ""
    now = timezone.now()
    results = [(lead, reason(lead, now)) for lead in selectors.search(membership, text)]
    if len(text) >= 2:
        # Who searched and which leads it showed; never what was typed (a name, a phone).
        audit_record(
            action="lead.searched",
            actor=request.user,
            organization_id=membership.organization_id,
            object_type="lead",
            changes={"results": len(results), "leads": [str(lead.code) for lead, _ in results]},
            request=request,
        )
    context = {
        "q": text,
        "results": results,
        "searched": len(text) >= 2,
        "error": "" if valid else "That search has characters that cannot be searched for.",
    }
    if request.htmx:
        return render(request, "leads/search.html#results", context)
    return render(request, "leads/search.html", context)


@member_required()
@require_POST
def queue_bulk(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = BulkForm(request.POST, membership=membership)
    back = next_url(request, reverse("queue"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    data, actor = form.cleaned_data, Actor.of(request)
    codes = [c for c in data["leads"] if selectors.is_uuid(c)]
    leads = list(
        selectors.visible_leads(membership)
        .filter(code__in=codes)
        .select_related("person", "study_site__site", "owner__user")
        .order_by("id")
    )
    action = data["action"]
    if action != "assign" and leads and not request.POST.get("confirmed"):
        # Closing or setting a next action waits for a confirmation that says what it does.
        changing, unchanged = services.bulk_plan(leads=leads, action=action)
        return render(
            request,
            "leads/queue_bulk_confirm.html",
            {
                "action": action,
                "leads": leads,
                "changing": changing,
                "unchanged": unchanged,
                "kind": ActionKind(data["kind"]).label if data.get("kind") else "",
                "due_at": data.get("due_at"),
                "close_reason": (
                    CloseReason(data["close_reason"]).label if data.get("close_reason") else ""
                ),
                "form": request.POST,
                "back": back,
                "undo_days": BulkChange.UNDO_PERIOD.days,
            },
        )
    result: services.BulkResult
    try:
        if action == "assign":
            result = services.leads_assign_many(leads=leads, owner=data["owner"], actor=actor)
        elif action == "next_action":
            # The time is read on each lead's site clock, as on the single-lead form.
            result = services.leads_set_next_action_many(
                leads=leads, kind=data["kind"], wall_clock=data["due_at"], actor=actor
            )
        else:
            result = services.leads_close_many(
                leads=leads, close_reason=data["close_reason"], actor=actor
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    done = f"{result.done} of {len(codes)} leads updated."
    if result.change is not None and result.change.lead_count:
        url = reverse("queue_change", kwargs={"code": result.change.code})
        messages.success(
            request,
            format_html(
                '{} <a href="{}?next={}">Undo</a> (for {} days)',
                done,
                url,
                quote(back),
                BulkChange.UNDO_PERIOD.days,
            ),
        )
    else:
        messages.success(request, done)
    for lead, message in result.failed[:5]:
        messages.error(request, f"{lead.person.full_name}: {message}")
    return redirect(back)


@member_required()
@require_GET
def queue_change(request: TenantRequest, code: str) -> HttpResponse:
    """A bulk change the member made from the queue, with its undo while it is allowed."""
    change = get_own_bulk_change_for_user(request, code)
    context = {
        "change": change,
        "undoable": change.undone_at is None
        and timezone.now() - change.created_at <= BulkChange.UNDO_PERIOD,
        "undo_days": BulkChange.UNDO_PERIOD.days,
        "back": next_url(request, reverse("queue")),
    }
    return render(request, "leads/queue_change.html", context)


@member_required()
@require_POST
def queue_change_undo(request: TenantRequest, code: str) -> HttpResponse:
    change = get_own_bulk_change_for_user(request, code)
    back = next_url(request, reverse("queue"))
    try:
        undone = services.bulk_change_undo(change=change, actor=Actor.of(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(
        request,
        undo_message(
            change, undone.restored, undone.changed_since, undone.owner_left, undone.no_access
        ),
    )
    return redirect(back)


@member_required()
@require_POST
def saved_view_create(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("queue")
    data = form.cleaned_data
    services.saved_view_create(
        membership=membership,
        name=data["name"],
        query=data["query"],
        shared=data["shared"],
        actor=Actor.of(request),
    )
    messages.success(request, f"Saved the view “{data['name']}”.")
    return redirect(f"{reverse('queue')}?{data['query']}")


@member_required()
@require_POST
def saved_view_delete(request: TenantRequest, code: str) -> HttpResponse:
    view = get_saved_view_for_user(request, code)
    services.saved_view_delete(view=view, actor=Actor.of(request))
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("queue")
