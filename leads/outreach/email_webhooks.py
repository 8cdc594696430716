"""django-anymail's webhooks, for the e-mail provider EMAIL_URL names (anymail://ESP): the
provider posts to /outreach/email/tracking/ and /outreach/email/inbound/ with the basic-auth
secret ANYMAIL_WEBHOOK_SECRET ("user:password" in the webhook's URL at the provider); anymail
checks it and normalizes the event, and the receivers below hand it to the outreach services
(connected in LeadsConfig.ready). Only the configured provider's views answer, and none without
a secret: an open webhook would let anyone mark messages delivered or opt people out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from anymail import urls as anymail_urls
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.conf import settings
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from leads.outreach.services.email_events import email_reply_receive, email_tracking_event

logger = logging.getLogger(__name__)
KINDS = ("tracking", "inbound")


@cache
def _anymail_view(esp: str, kind: str) -> Callable[..., HttpResponse] | None:
    name = f"{esp}_{kind}_webhook"
    for pattern in anymail_urls.urlpatterns:
        if getattr(pattern, "name", None) == name:
            view: Callable[..., HttpResponse] = pattern.callback
            return view
    return None


@csrf_exempt
def email_webhook(request: HttpRequest, kind: str) -> HttpResponse:
    esp = settings.EMAIL_PROVIDER
    view = _anymail_view(esp, kind) if esp and kind in KINDS else None
    if view is None:
        raise Http404("Not found.")
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        logger.warning("E-mail %s webhook refused: ANYMAIL_WEBHOOK_SECRET is not set.", kind)
        return HttpResponse("The webhook secret is not configured.", status=403)
    return view(request)


@receiver(tracking)
def email_tracked(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    if event.message_id:
        email_tracking_event(
            provider_id=str(event.message_id),
            event=str(event.event_type),
            description=str(event.description or event.reject_reason or "")[:200],
        )


@receiver(inbound)
def email_received(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    if message is None:
        return
    replied_to = [message.get("In-Reply-To", "")]
    replied_to += str(message.get("References", "")).split()
    email_reply_receive(
        from_address=message.from_email.addr_spec if message.from_email else "",
        text=message.text or "",
        replied_to=[r for r in replied_to if r],
        provider_id=str(event.event_id or message.get("Message-ID", "") or ""),
        received_at=event.timestamp,
    )
