"""SMS backends: one interface, chosen by settings.SMS_URL.

- `console://`: prints each text to the log (the demo);
- `file:///path`: appends each text as a JSON line to a file (tests and the demo read it back);
- `twilio://`: Twilio's REST API with TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.

A backend returns the provider's id of the message, or raises SmsError with the reason.
Each text carries our idempotency key: a provider that honours one (the file backend does, as
a stand-in for such a provider) answers a repeat of the key with the first send's id instead of
sending again, which is what lets a send interrupted by a crash be retried safely.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider refused or could not be reached; the text says why."""


@dataclass(frozen=True)
class Sms:
    to: str
    from_: str
    body: str
    key: str = ""  # our idempotency key: the same key is the same text


class SmsBackend(Protocol):
    def send(self, sms: Sms) -> str: ...


class ConsoleSmsBackend:
    def send(self, sms: Sms) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        logger.info("SMS %s to %s from %s: %s", provider_id, sms.to, sms.from_, sms.body)
        return provider_id


class FileSmsBackend:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, sms: Sms) -> str:
        if sms.key:
            for earlier in self.sent():
                if earlier.get("key") == sms.key:
                    return earlier["id"]  # a repeat of this key: already sent
        provider_id = f"file-{uuid.uuid4().hex}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"id": provider_id, "to": sms.to, "from": sms.from_, "body": sms.body,
                "key": sms.key}  # fmt: skip
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        return provider_id

    def sent(self) -> list[dict[str, str]]:
        """What was sent, oldest first (for tests and the demo)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]


class TwilioSmsBackend:
    def __init__(self, account_sid: str, auth_token: str, http_client: Any = None) -> None:
        from twilio.rest import Client

        # http_client: Twilio's own transport unless given (tests give one with no network).
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send(self, sms: Sms) -> str:
        from twilio.base.exceptions import TwilioException

        try:
            callback = settings.TWILIO_STATUS_CALLBACK_URL
            extra = {"status_callback": callback} if callback else {}
            message = self.client.messages.create(
                to=sms.to, from_=sms.from_, body=sms.body, **extra
            )
        except TwilioException as exc:
            raise SmsError(f"Twilio: {exc}"[:300]) from exc
        return str(message.sid)


def sms_backend() -> SmsBackend:
    url = settings.SMS_URL
    scheme = urlsplit(url).scheme
    if scheme == "console":
        return ConsoleSmsBackend()
    if scheme == "file":
        return FileSmsBackend(Path(urlsplit(url).path))
    if scheme == "twilio":
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise SmsError("Twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        return TwilioSmsBackend(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
    raise SmsError("No SMS backend is configured (SMS_URL).")
