"""Message templates: made, and edited into new versions (a version is never changed)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from leads.outreach.models import MessageChannel, MessageTemplate, MessageTemplateVersion
from leads.outreach.rendering import check_variables
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import LINE_MAX, NOTE_MAX, check_text
from trialsnest.tenancy.models import Organization


def _check(channel: str, subject: str, body: str) -> None:
    check_text(subject, field="subject", max_length=200)
    check_text(body, field="body", max_length=NOTE_MAX, multiline=True)
    if not body.strip():
        raise ValidationError({"body": "Write the message."})
    if channel == MessageChannel.EMAIL and not subject.strip():
        raise ValidationError({"subject": "Give the e-mail a subject."})
    check_variables(subject, field="subject")
    check_variables(body, field="body")


@transaction.atomic
def message_template_create(
    *,
    organization: Organization,
    name: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
    actor: Actor,
) -> MessageTemplate:
    check_text(name, field="name", max_length=min(LINE_MAX, 100))
    if not name.strip():
        raise ValidationError({"name": "Name the template."})
    _check(channel, subject, body)
    try:
        with transaction.atomic():
            template = MessageTemplate.objects.create(
                organization=organization, name=name.strip(), channel=channel, language=language
            )
    except IntegrityError:
        raise ValidationError(
            {"name": "A template of this name, channel and language exists: edit it."}
        ) from None
    message_template_edit(template=template, subject=subject, body=body, actor=actor)
    audit_record(
        action="message_template.created",
        actor=actor.user,
        organization=organization,
        obj=template,
        changes={"name": {"new": template.name}, "channel": {"new": channel}},
        request=actor.request,
    )
    return template


@transaction.atomic
def message_template_edit(
    *, template: MessageTemplate, subject: str, body: str, actor: Actor
) -> MessageTemplateVersion:
    """A new version of the template; the earlier ones stay, as sent messages name them."""
    _check(template.channel, subject, body)
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    last = template.versions.aggregate(n=Max("number"))["n"] or 0
    version = MessageTemplateVersion.objects.create(
        template=template,
        number=last + 1,
        subject=subject.strip() if template.channel == MessageChannel.EMAIL else "",
        body=body.strip(),
        created_by=actor.user,
    )
    audit_record(
        action="message_template.versioned",
        actor=actor.user,
        organization_id=template.organization_id,
        obj=template,
        changes={"version": {"old": last, "new": version.number}},
        request=actor.request,
    )
    return version
