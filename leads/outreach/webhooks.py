"""Inbound SMS webhooks. The organization is decided by the secret token in the URL, or for
Twilio by the number the text was sent to: a phone is never looked up across organizations.

- POST /outreach/sms/<token>/: provider-neutral JSON {"from", "to", "body", "id"};
- POST /outreach/sms/twilio/ and /outreach/sms/twilio/<token>/: Twilio's form, its
  X-Twilio-Signature checked with the account's auth token (an invalid one is a 403);
- POST /outreach/sms/twilio/status/: Twilio's delivery reports (signed the same way), which
  mark a sent message delivered or failed.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from leads.outreach.models import OutreachSettings
from leads.outreach.services.inbound import inbound_sms_receive
from leads.outreach.services.sending import message_delivery_report
from trialsnest.lib.phones import e164

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _by_token(token: str) -> OutreachSettings:
    found = OutreachSettings.objects.filter(webhook_token=token).first() if token else None
    if found is None:
        raise Http404("Not found.")
    return found


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest, token: str) -> HttpResponse:
    outreach = _by_token(token)
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "The body must be JSON."}, status=400)
    fields = ("from", "to", "body", "id")
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(f, ""), str) for f in fields
    ):
        return JsonResponse({"error": "Give from, to, body and id as strings."}, status=400)
    if not payload.get("from"):
        return JsonResponse({"error": "Give the sender's number (from)."}, status=400)
    message = inbound_sms_receive(
        organization_id=outreach.organization_id,
        from_number=payload["from"],
        to_number=payload.get("to", ""),
        body=payload.get("body", ""),
        provider_id=payload.get("id", ""),
    )
    return JsonResponse({"id": str(message.code), "intent": message.intent})


def twilio_signature_valid(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    return bool(validator.validate(request.build_absolute_uri(), request.POST.dict(), signature))


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest, token: str = "") -> HttpResponse:
    if not twilio_signature_valid(request):
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    to_number = request.POST.get("To", "")
    if token:
        outreach = _by_token(token)
    else:
        number = e164(to_number) or ""
        found = OutreachSettings.objects.filter(sms_number=number).first() if number else None
        if found is None:
            raise Http404("Not found.")
        outreach = found
    if not request.POST.get("From"):
        return HttpResponse("From is missing.", status=400, content_type="text/plain")
    inbound_sms_receive(
        organization_id=outreach.organization_id,
        from_number=request.POST["From"],
        to_number=to_number,
        body=request.POST.get("Body", ""),
        provider_id=request.POST.get("MessageSid", ""),
    )
    # The replies (confirmations, help) go out as messages of their own, not as TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not twilio_signature_valid(request):
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    found = message_delivery_report(
        provider_id=request.POST.get("MessageSid", ""),
        report=request.POST.get("MessageStatus", ""),
        error=request.POST.get("ErrorCode", "")[:20],
    )
    if found is None:
        raise Http404("Not found.")
    return HttpResponse(status=204)
