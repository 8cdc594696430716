"""The coordinator queue, search, the lead page and the inline actions on a lead.

Every action works as a plain form (a page of its own without JavaScript) and as an htmx
fragment inside the queue or the lead page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event
from django_htmx.middleware import HtmxDetails

from leads import selectors, services
from leads.forms import (
    AssignForm,
    AttemptForm,
    BlockerForm,
    BulkForm,
    NextActionForm,
    NoteForm,
    OptOutForm,
    PolicyForm,
    SavedViewForm,
    SearchForm,
    SnoozeForm,
    StatusForm,
)
from leads.models import (
    OPEN_STATUSES,
    ActionKind,
    Blocker,
    CloseReason,
    Lead,
    OptOut,
    Source,
    Status,
)
from leads.services import Actor, LeadConflict, OptOutWarning
from trialsnest.tenancy.gatekeepers import (
    active_membership,
    get_lead_for_user,
    get_membership_for_user,
    get_saved_view_for_user,
    get_study_site_for_user,
    member_required,
)
from trialsnest.tenancy.models import Membership, Role


@cache
def leads_prefix() -> str:
    """The lead page URL without its code. Row links are built from it: reversing seven URLs
    per row costs more than the page's queries."""
    placeholder = uuid.UUID(int=0)
    return reverse("lead_detail", kwargs={"code": placeholder}).removesuffix(f"{placeholder}/")


def htmx(request: HttpRequest) -> HtmxDetails:
    details: HtmxDetails = request.htmx  # type: ignore[attr-defined]  # set by HtmxMiddleware
    return details


def _actor(request: HttpRequest) -> Actor:
    user: Any = request.user
    return Actor(user=user, request=request)


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}):
        return url
    return default


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for e in errors:
                form.add_error(name if name in form.fields else None, e)
    else:
        for message in error.messages:
            form.add_error(None, message)


# The queue ---------------------------------------------------------------------------------


def _queue_context(request: HttpRequest, query: QueryDict) -> dict[str, Any]:
    membership = active_membership(request)
    now = timezone.now()
    tab = query.get("tab", "due")
    if tab not in selectors.TAB_KEYS:
        tab = "due"
    filters = selectors.QueueFilters.parse(query)
    after = selectors.parse_cursor(query.get("after", ""))
    rows = selectors.queue_rows(
        membership, tab=tab, filters=filters, now=now, after=after, limit=selectors.PAGE_SIZE + 1
    )
    more = len(rows) > selectors.PAGE_SIZE
    rows = rows[: selectors.PAGE_SIZE]
    more_query = QueryDict(mutable=True)
    more_query.update({"tab": tab, "after": selectors.cursor_of(rows[-1]) if more else ""})
    for name in selectors.QueueFilters.NAMES:
        if value := getattr(filters, name):
            more_query[name] = value
    return {
        "now": now,
        "tab": tab,
        "filters": filters,
        "rows": [selectors.queue_row(lead, now, leads_prefix()) for lead in rows],
        "more_url": f"?{more_query.urlencode()}" if more else "",
        "filter_query": filters.query_string(),
        "membership": membership,
    }


@member_required()
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    context = _queue_context(request, request.GET)
    if htmx(request) and request.GET.get("after"):
        return render(request, "leads/queue.html#more_rows", context)
    membership = context["membership"]
    now, filters = context["now"], context["filters"]
    counts = selectors.queue_counts(membership, filters, now)
    study_sites = list(
        membership.visible_study_sites().select_related("site", "study").order_by("site__name")
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
        action_kinds=ActionKind.choices,
        close_reasons=CloseReason.choices,
    )
    if htmx(request) and htmx(request).target in ("queue", "tabs"):
        return render(request, "leads/queue.html#queue", context)
    return render(request, "leads/queue.html", context)


@member_required()
@require_GET
def queue_search(request: HttpRequest) -> HttpResponse:
    membership = active_membership(request)
    form = SearchForm(request.GET)
    valid = form.is_valid()
    text = form.cleaned_data["q"] if valid else ""
    now = timezone.now()
    results = [(lead, selectors.reason(lead, now)) for lead in selectors.search(membership, text)]
    context = {
        "q": text,
        "results": results,
        "searched": len(text) >= 2,
        "error": "" if valid else "That search has characters that cannot be searched for.",
    }
    if htmx(request):
        return render(request, "leads/search.html#results", context)
    return render(request, "leads/search.html", context)


@member_required()
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    membership = active_membership(request)
    form = BulkForm(request.POST, membership=membership)
    back = _next_url(request, reverse("queue"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    data, actor = form.cleaned_data, _actor(request)
    codes = [c for c in data["leads"] if selectors._is_uuid(c)]
    leads = list(
        selectors.visible_leads(membership)
        .filter(code__in=codes)
        .select_related("person", "study_site__site")
    )
    apply: Callable[[Lead], Any]
    if data["action"] == "assign":
        apply = lambda lead: services.lead_assign(lead=lead, owner=data["owner"], actor=actor)  # noqa: E731
    elif data["action"] == "next_action":
        # The time is read on each lead's site clock, as on the single-lead form.
        wall_clock = data["due_at"].replace(tzinfo=None)
        apply = lambda lead: services.lead_set_next_action(  # noqa: E731
            lead=lead,
            kind=data["kind"],
            due_at=timezone.make_aware(wall_clock, ZoneInfo(lead.study_site.site.timezone)),
            actor=actor,
        )
    else:
        apply = lambda lead: services.lead_change_status(  # noqa: E731
            lead=lead, status=Status.CLOSED, close_reason=data["close_reason"], actor=actor
        )
    done, failed = services.leads_bulk(leads, apply)
    messages.success(request, f"{done} of {len(codes)} leads updated.")
    for lead, message in failed[:5]:
        messages.error(request, f"{lead.person.full_name}: {message}")
    return redirect(back)


@member_required()
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
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
        actor=_actor(request),
    )
    messages.success(request, f"Saved the view “{data['name']}”.")
    return redirect(f"{reverse('queue')}?{data['query']}")


@member_required()
@require_POST
def saved_view_delete(request: HttpRequest, code: str) -> HttpResponse:
    view = get_saved_view_for_user(request, code)
    services.saved_view_delete(view=view, actor=_actor(request))
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("queue")


# The lead page ------------------------------------------------------------------------------


def _lead_context(lead: Lead, membership: Membership, **forms: Form) -> dict[str, Any]:
    now = timezone.now()
    return {
        "lead": lead,
        "lead_url": f"{leads_prefix()}{lead.code}/",
        "now": now,
        "reason": selectors.reason(lead, now),
        "past_sla": selectors.past_sla(lead, now),
        "allowed_transitions": lead.allowed_transitions(),
        "opt_outs": list(OptOut.objects.filter(person_id=lead.person_id)),
        "attempt_form": forms.get("attempt") or AttemptForm(lead=lead),
        "note_form": forms.get("note") or NoteForm(),
        **selectors.lead_page_data(lead, membership),
    }


def _owner(lead: Lead) -> dict[str, Any]:
    return {"owner": lead.owner.code if lead.owner else None}


@member_required()
@require_GET
def lead_detail(request: HttpRequest, code: str) -> HttpResponse:
    lead = get_lead_for_user(request, code)
    context = _lead_context(lead, active_membership(request))
    return render(request, "leads/lead_detail.html", context)


# Actions -----------------------------------------------------------------------------------

ACTIONS: dict[str, tuple[str, type[Form]]] = {
    "attempt": ("Log a contact attempt", AttemptForm),
    "next_action": ("Set the next action", NextActionForm),
    "note": ("Add a note", NoteForm),
    "status": ("Change status", StatusForm),
    "assign": ("Reassign", AssignForm),
    "snooze": ("Snooze", SnoozeForm),
    "blocker": ("Set a blocker", BlockerForm),
    "opt_out": ("Record an opt-out", OptOutForm),
}


def _apply(action: str, lead: Lead, data: dict[str, Any], actor: Actor) -> None:
    version = data.get("version")
    if action == "attempt":
        services.lead_log_attempt(
            lead=lead,
            channel=data["channel"],
            outcome=data["outcome"],
            direction=data["direction"],
            note=data["note"],
            callback_at=data.get("callback_at"),
            confirm_opt_out=data["confirm_opt_out"],
            version=version,
            actor=actor,
        )
    elif action == "next_action":
        services.lead_set_next_action(
            lead=lead,
            kind=data["kind"],
            due_at=data["due_at"],
            note=data["note"],
            version=version,
            actor=actor,
        )
    elif action == "note":
        services.lead_add_note(lead=lead, text=data["text"], actor=actor)
    elif action == "status":
        services.lead_change_status(
            lead=lead,
            status=data["status"],
            close_reason=data["close_reason"],
            reason=data["reason"],
            version=version,
            actor=actor,
        )
    elif action == "assign":
        services.lead_assign(lead=lead, owner=data["owner"], version=version, actor=actor)
    elif action == "snooze":
        services.lead_snooze(lead=lead, until=data["until"], version=version, actor=actor)
    elif action == "opt_out":
        services.person_record_opt_out(
            person=lead.person,
            channel=data["channel"],
            evidence=data["evidence"],
            lead=lead,
            actor=actor,
        )
    elif action == "blocker":
        services.lead_set_blocker(
            lead=lead,
            blocker=data["blocker"],
            text=data["blocker_text"],
            version=version,
            actor=actor,
        )


def _make_form(action: str, lead: Lead, data: QueryDict | None) -> Form:
    form_class = ACTIONS[action][1]
    if form_class in (NoteForm, OptOutForm):
        return form_class(data)
    initial = _owner(lead) if action == "assign" else None
    form: Form = form_class(data, lead=lead, initial=initial)  # type: ignore[call-arg]
    return form


@member_required()
@require_http_methods(["GET", "POST"])
def lead_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One inline action on a lead: its form (GET) and its submission (POST)."""
    lead = get_lead_for_user(request, code)
    title = ACTIONS[action][0]
    form = _make_form(action, lead, request.POST if request.method == "POST" else None)
    in_queue = request.POST.get("in") == "queue" or request.GET.get("in") == "queue"
    status = 200
    conflict = opt_out_warning = None
    if request.method == "POST" and form.is_valid():
        try:
            _apply(action, lead, form.cleaned_data, _actor(request))
        except LeadConflict as exc:
            conflict, status = exc, 409
        except OptOutWarning as exc:
            opt_out_warning = str(exc)
            confirmed = request.POST.copy()
            confirmed["confirm_opt_out"] = "true"
            form = _make_form(action, lead, confirmed)
        except ValidationError as exc:
            _add_errors(form, exc)
            status = 422
        else:
            return _after_write(request, lead, in_queue, f"{title}: saved.")
    elif request.method == "POST":
        status = 422
    context = {
        "lead": lead,
        "form": form,
        "action": action,
        "title": title,
        "in_queue": in_queue,
        "conflict": conflict,
        "opt_out_warning": opt_out_warning,
        "next": _next_url(request, ""),
    }
    if htmx(request):
        # htmx swaps only 2xx answers: errors come back as 200 aimed at the row's panel.
        response = render(request, "leads/action.html#action_form", context)
        if in_queue:
            response["HX-Retarget"] = f"#panel-{lead.code}"
            response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "leads/action.html", context, status=status)


def _after_write(request: HttpRequest, lead: Lead, in_queue: bool, message: str) -> HttpResponse:
    lead = Lead.objects.select_related(
        "person", "study_site__site", "study_site__study", "owner__user"
    ).get(pk=lead.pk)
    if htmx(request) and in_queue:
        row = selectors.queue_row(lead, timezone.now(), leads_prefix())
        context = {"row": row, "just_saved": message}
        response = render(request, "leads/queue.html#row", context)
        return trigger_client_event(response, "lead-changed")
    default = reverse("queue") if in_queue else reverse("lead_detail", kwargs={"code": lead.code})
    messages.success(request, f"{lead.person.full_name} · {message}")
    url = _next_url(request, default)
    if htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


# Team and policies (site leads) -------------------------------------------------------------


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    membership = active_membership(request)
    members = (
        Membership.objects.filter(organization_id=membership.organization_id, is_active=True)
        .select_related("user")
        .annotate(open_leads=Count("owned_leads", filter=Q(owned_leads__status__in=OPEN_STATUSES)))
        .order_by("role", "user__email")
    )
    study_sites = membership.visible_study_sites().select_related("site", "study")
    context = {"members": members, "study_sites": study_sites}
    return render(request, "leads/team.html", context)


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_POST
def team_reassign(request: HttpRequest, code: str) -> HttpResponse:
    """Hand every open lead of one member to another, or spread them by the assignment rule."""
    member = get_membership_for_user(request, code)
    target_code = request.POST.get("to", "")
    target = None
    if target_code:
        target = get_membership_for_user(request, target_code)
    try:
        moved = services.leads_reassign_all(
            from_owner=member, to_owner=target, actor=_actor(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Reassigned {moved} open leads of {member.user}.")
    return redirect("team")


@member_required(Role.SITE_LEAD, Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    policy = services.policy_for(study_site)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        services.policy_update(policy=policy, form_data=form.cleaned_data, actor=_actor(request))
        messages.success(request, "Saved the policy.")
        return redirect("team")
    return render(request, "leads/policy.html", {"form": form, "study_site": study_site})
