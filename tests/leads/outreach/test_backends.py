"""The SMS backends behind one interface, and what a text costs in segments. The Twilio backend
runs its real client over a transport that answers like Twilio's API, with no network."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response

from leads.outreach.backends import (
    FileSmsBackend,
    Sms,
    SmsError,
    TwilioSmsBackend,
    sms_backend,
)
from leads.outreach.segments import sms_segments


class TwilioApi(HttpClient):
    """Answers as Twilio's Messages endpoint does: 201 with the new message, or an error."""

    def __init__(self, status: int = 201) -> None:
        super().__init__(logger=None, is_async=False)
        self.status = status
        self.requests: list[dict[str, Any]] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, **kw):
        self.requests.append({"method": method, "url": url, "data": data})
        if self.status != 201:
            body = {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
            return Response(self.status, json.dumps(body))
        return Response(201, json.dumps({"sid": "SM" + "1" * 32, "status": "queued"}))


def test_the_twilio_backend_posts_the_text_and_returns_twilios_id():
    api = TwilioApi()
    backend = TwilioSmsBackend("AC" + "0" * 32, "token", http_client=api)

    sid = backend.send(Sms(to="+13125550123", from_="+13125550000", body="Hello"))

    assert sid == "SM" + "1" * 32
    [request] = api.requests
    assert request["method"] == "POST"
    assert request["url"].endswith("/Messages.json")
    assert request["data"] == {"To": "+13125550123", "From": "+13125550000", "Body": "Hello"}


def test_a_twilio_refusal_is_an_sms_error_with_the_reason():
    backend = TwilioSmsBackend("AC" + "0" * 32, "token", http_client=TwilioApi(status=400))

    with pytest.raises(SmsError, match="not valid"):
        backend.send(Sms(to="+1", from_="+13125550000", body="Hello"))


def test_the_backend_is_chosen_by_sms_url(settings, tmp_path):
    settings.SMS_URL = f"file://{tmp_path}/sms.jsonl"
    backend = sms_backend()
    assert isinstance(backend, FileSmsBackend)
    backend.send(Sms(to="+13125550123", from_="+13125550000", body="Hi"))
    assert [s["body"] for s in backend.sent()] == ["Hi"]

    settings.SMS_URL, settings.TWILIO_ACCOUNT_SID = "twilio://", "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    assert isinstance(sms_backend(), TwilioSmsBackend)


def test_without_a_backend_or_twilio_credentials_a_send_fails_with_the_reason(settings):
    settings.SMS_URL = ""
    with pytest.raises(SmsError, match="SMS_URL"):
        sms_backend()
    settings.SMS_URL, settings.TWILIO_AUTH_TOKEN = "twilio://", ""
    with pytest.raises(SmsError, match="TWILIO_ACCOUNT_SID"):
        sms_backend()


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("ñé ü @£$", "GSM-7", 1),
        ("€" * 80, "GSM-7", 1),  # the extension table counts twice: 160 septets
        ("€" * 81, "GSM-7", 2),
        ("á" * 70, "UCS-2", 1),  # á is not in GSM-7
        ("á" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments_count_gsm7_and_ucs2(text, encoding, count):
    segments = sms_segments(text)

    assert (segments.encoding, segments.count) == (encoding, count)
