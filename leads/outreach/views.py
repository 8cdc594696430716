"""Outreach screens: send a message from a lead, templates with versions and a preview with a
real lead, the inbox of replies to review, and the organization's SMS settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leads.gatekeepers import get_lead_for_user
from leads.models import Lead
from leads.outreach.forms import (
    MessageForm,
    OutreachSettingsForm,
    ReviewForm,
    TemplateForm,
    VersionForm,
)
from leads.outreach.gatekeepers import (
    get_inbound_for_user,
    get_template_for_user,
    visible_inbound,
)
from leads.outreach.models import MessageTemplate, MessageTemplateVersion, OutreachSettings
from leads.outreach.rendering import VARIABLES, render_version
from leads.outreach.segments import sms_segments
from leads.outreach.selectors import (
    inbox,
    latest_version,
    preview_leads,
    replies_to_owner,
    templates_of,
)
from leads.outreach.services.reviews import inbound_review
from leads.outreach.services.sending import message_queue
from leads.outreach.services.templates import message_template_create, message_template_edit
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.gatekeepers import active_membership, member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role

SITE_LEADS = (Role.SITE_LEAD, Role.ORG_ADMIN)


def _prefill(lead: Lead, template: MessageTemplate) -> dict[str, Any]:
    version = latest_version(template)
    if version is None:
        return {}
    rendered = render_version(subject=version.subject, body=version.body, lead=lead)
    return {
        "channel": template.channel,
        "subject": rendered.subject,
        "body": rendered.body,
        "template": template.code,
        "version": version.number,
    }


def _version(lead: Lead, data: dict[str, Any]) -> MessageTemplateVersion | None:
    if not data.get("template") or not data.get("version"):
        return None
    return MessageTemplateVersion.objects.filter(
        template__organization_id=lead.organization_id,
        template__code=data["template"],
        number=data["version"],
    ).first()


@not_for_sponsors
@member_required()
@require_http_methods(["GET", "POST"])
def message_new(request: TenantRequest, code: str) -> HttpResponse:
    lead = get_lead_for_user(request, code)
    membership = active_membership(request)
    status, problem = 200, ""
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = message_queue(
                    person=lead.person,
                    lead=lead,
                    channel=data["channel"],
                    subject=data["subject"],
                    body=data["body"],
                    actor=Actor.of(request),
                    idempotency_key=f"lead:{lead.code}:{data['key']}",
                    template_version_id=getattr(_version(lead, data), "pk", None),
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                if message.reason:
                    messages.error(request, f"Not sent: {message.reason}")
                else:
                    messages.success(request, f"{message.get_channel_display()} queued.")
                return redirect("lead_detail", code=lead.code)
        status = 422
    else:
        template = None
        if request.GET.get("template"):
            template = get_template_for_user(request, request.GET["template"])
        initial: dict[str, Any] = {"channel": request.GET.get("channel", "sms")}
        if template is not None:
            try:
                initial.update(_prefill(lead, template))
            except ValidationError as exc:
                problem = " ".join(exc.messages)
        form = MessageForm(initial=initial)
    body = form["body"].value() or ""
    context = {
        "lead": lead,
        "form": form,
        "problem": problem,
        "segments": sms_segments(str(body)) if body else None,
        "templates": templates_of(membership.organization_id, active_only=True),
    }
    return render(request, "leads/outreach/message_new.html", context, status=status)


@not_for_sponsors
@member_required(*SITE_LEADS)
@require_http_methods(["GET", "POST"])
def template_list(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    form = TemplateForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                template = message_template_create(
                    organization=membership.organization, actor=Actor.of(request),
                    **form.cleaned_data,
                )  # fmt: skip
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Template “{template.name}” saved.")
                return redirect("outreach_template", code=template.code)
        status = 422
    context = {"templates": templates_of(membership.organization_id), "form": form}
    return render(request, "leads/outreach/templates.html", context, status=status)


@not_for_sponsors
@member_required(*SITE_LEADS)
@require_http_methods(["GET", "POST"])
def template_detail(request: TenantRequest, code: str) -> HttpResponse:
    """A template's versions, a new version, and a preview with a lead the member may see."""
    template = get_template_for_user(request, code)
    latest = latest_version(template)
    initial = {"subject": latest.subject, "body": latest.body} if latest else {}
    form = VersionForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                version = message_template_edit(
                    template=template, actor=Actor.of(request), **form.cleaned_data
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Version {version.number} saved.")
                return redirect("outreach_template", code=template.code)
        status = 422
    preview: dict[str, Any] | None = None
    if request.GET.get("lead") and latest is not None:
        lead = get_lead_for_user(request, request.GET["lead"])
        try:
            rendered = render_version(subject=latest.subject, body=latest.body, lead=lead)
        except ValidationError as exc:
            preview = {"lead": lead, "problem": " ".join(exc.messages)}
        else:
            preview = {"lead": lead, "rendered": rendered, "segments": sms_segments(rendered.body)}
    context = {
        "template": template,
        "versions": list(template.versions.order_by("-number")),
        "form": form,
        "preview": preview,
        "segments": sms_segments(latest.body) if latest else None,
        "variables": VARIABLES,
        "preview_leads": preview_leads(active_membership(request)),
    }
    return render(request, "leads/outreach/template.html", context, status=status)


@not_for_sponsors
@member_required()
@require_http_methods(["GET"])
def inbox_list(request: TenantRequest) -> HttpResponse:
    context = {
        "messages_to_review": inbox(visible_inbound(request)),
        "replies": replies_to_owner(active_membership(request)),
    }
    return render(request, "leads/outreach/inbox.html", context)


@not_for_sponsors
@member_required()
@require_POST
def inbox_review(request: TenantRequest, code: str) -> HttpResponse:
    message = get_inbound_for_user(request, code)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to opt them out or to resume SMS.")
        return redirect("outreach_inbox")
    try:
        inbound_review(
            message=message, opt_out=form.cleaned_data["decision"] == "opt_out",
            actor=Actor.of(request),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Reviewed.")
    if message.lead_id and request.POST.get("next") == "lead":
        return redirect("lead_detail", code=message.lead.code)  # type: ignore[union-attr]
    return redirect("outreach_inbox")


@not_for_sponsors
@member_required(Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def outreach_settings(request: TenantRequest) -> HttpResponse:
    membership = active_membership(request)
    current, _ = OutreachSettings.objects.get_or_create(organization_id=membership.organization_id)
    initial = {"sms_number": current.sms_number, "help_contact": current.help_contact}
    form = OutreachSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            taken = (
                OutreachSettings.objects.filter(sms_number=form.cleaned_data["sms_number"])
                .exclude(pk=current.pk)
                .exclude(sms_number="")
                .exists()
            )
            if taken:
                form.add_error("sms_number", "Another organization sends from this number.")
            else:
                with transaction.atomic():
                    current.sms_number = form.cleaned_data["sms_number"]
                    current.help_contact = form.cleaned_data["help_contact"]
                    current.save()
                    audit_record(
                        action="outreach.settings_changed",
                        actor=Actor.of(request).user,
                        organization_id=membership.organization_id,
                        object_type="outreachsettings",
                        object_id=str(membership.organization.code),
                        changes={"sms_number": {"new": current.sms_number}},
                        request=request,
                    )
                messages.success(request, "Outreach settings saved.")
                return redirect("outreach_settings")
        status = 422
    webhooks = {
        "json": reverse("outreach_sms_inbound", kwargs={"token": current.webhook_token}),
        "twilio": reverse("outreach_twilio"),
    }
    context = {"form": form, "webhooks": webhooks}
    return render(request, "leads/outreach/settings.html", context, status=status)
