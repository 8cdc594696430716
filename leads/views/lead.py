"""The lead page and the actions on one lead (leads/actions.py), as pages and as htmx panels."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from leads import selectors
from leads.actions import ACTIONS, ROW_ACTIONS
from leads.forms import AttemptForm, NoteForm
from leads.gatekeepers import get_lead_for_user
from leads.models import Lead, OptOut
from leads.outreach.presenters import lead_outreach_panel
from leads.presenters import leads_prefix, past_sla, queue_row, reason, timeline_entry
from leads.services import LeadConflict, OptOutWarning
from leads.signals import lead_page_shown
from leads.views.queue import next_url, row_reasons, tab_of_url
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Membership, Role


def _lead_context(lead: Lead, membership: Membership, **forms: Form) -> dict[str, Any]:
    now = timezone.now()
    data = selectors.lead_page_data(lead, membership)
    tz = lead.study_site.site.timezone
    return {
        "lead": lead,
        "lead_url": f"{leads_prefix()}{lead.code}/",
        "now": now,
        "reason": reason(lead, now),
        "past_sla": past_sla(lead, now),
        "more_actions": _more_actions(lead),
        "snoozed": bool(lead.snoozed_until and lead.snoozed_until > now),
        "opt_outs": list(OptOut.objects.filter(person_id=lead.person_id, lifted_at__isnull=True)),
        "attempt_form": forms.get("attempt") or AttemptForm(lead=lead),
        "note_form": forms.get("note") or NoteForm(),
        "activities": [timeline_entry(activity, tz) for activity in data["activities"]],
        "other_leads": data["other_leads"],
        # Other apps' panels (prescreen, records, scheduling), by name (leads/signals.py).
        "panels": dict(
            cast(tuple[str, Any], answer)
            for _, answer in lead_page_shown.send(sender=Lead, lead=lead, membership=membership)
        ),
        "outreach": lead_outreach_panel(lead),
    }


def _more_actions(lead: Lead) -> list[tuple[str, str]]:
    """The lead page's action links that lead somewhere for the lead as it is."""
    links = []
    if lead.is_open:
        links += [("next_action", ACTIONS["next_action"].title), ("snooze", "Snooze")]
    if lead.transitions_by_hand():
        links.append(("status", "Change status" if lead.is_open else "Reopen"))
    if lead.is_open:
        links += [("assign", "Reassign"), ("blocker", ACTIONS["blocker"].title)]
    links.append(("opt_out", ACTIONS["opt_out"].title))
    return links


@member_required()
@require_GET
def lead_detail(request: TenantRequest, code: str) -> HttpResponse:
    lead = get_lead_for_user(request, code)
    membership = active_membership(request)
    # Who looked at whom: every view of a lead's page is in the audit log (its id, no more).
    audit_record(
        action="lead.viewed",
        actor=request.user,
        organization_id=lead.organization_id,
        obj=lead,
        request=request,
    )
    context = _lead_context(lead, membership)
    context["can_read_audit"] = membership.role in (Role.SITE_LEAD, Role.ORG_ADMIN)
    return render(request, "leads/lead_detail.html", context)


@member_required()
@require_http_methods(["GET", "POST"])
def lead_action(request: TenantRequest, code: str, action: str) -> HttpResponse:
    """One action on a lead: its form (GET) and its submission (POST)."""
    lead = get_lead_for_user(request, code)
    act = ACTIONS[action]
    form = act.build_form(lead, request.POST if request.method == "POST" else None)
    in_queue = request.POST.get("in") == "queue" or request.GET.get("in") == "queue"
    status = 200
    conflict = opt_out_warning = None
    if request.method == "POST" and form.is_valid():
        try:
            act.apply(lead, form.cleaned_data, Actor.of(request))
        except LeadConflict as exc:
            conflict, status = exc, 409
        except OptOutWarning as exc:
            opt_out_warning = str(exc)
            confirmed = request.POST.copy()
            confirmed["confirm_opt_out"] = "true"
            form = act.build_form(lead, confirmed)
        except ValidationError as exc:
            add_errors(form, exc)
            status = 422
        else:
            return _after_write(request, lead, in_queue, f"{act.title}: saved.")
    elif request.method == "POST":
        status = 422
    context = {
        "lead": lead,
        "form": form,
        "action": action,
        "title": act.title,
        "in_queue": in_queue,
        "conflict": conflict,
        "opt_out_warning": opt_out_warning,
        "next": next_url(request, ""),
        "queue_url": reverse("queue"),
    }
    if request.htmx:
        # htmx swaps only 2xx answers: errors come back as 200 aimed at the row's panel.
        response = render(request, "leads/action.html#action_form", context)
        if in_queue:
            response = reswap(retarget(response, f"#panel-{lead.code}"), "innerHTML")
        return response
    return render(request, "leads/action.html", context, status=status)


def _after_write(request: TenantRequest, lead: Lead, in_queue: bool, message: str) -> HttpResponse:
    # Read again through the gatekeeper: the lead as it is now, as this member may see it.
    lead = get_lead_for_user(request, lead.code)
    if request.htmx and in_queue:
        back = next_url(request, "")
        now, tab = timezone.now(), tab_of_url(back)
        context = {
            "row": queue_row(lead, now, tab, back, row_reasons([lead], tab, now).get(lead.pk)),
            "row_actions": ROW_ACTIONS,
            "just_saved": message,
        }
        response = render(request, "leads/queue.html#row", context)
        return trigger_client_event(response, "lead-changed")
    default = reverse("queue") if in_queue else reverse("lead_detail", kwargs={"code": lead.code})
    messages.success(request, f"{lead.person.full_name} · {message}")
    url = next_url(request, default)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
