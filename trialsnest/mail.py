"""E-mail settings from EMAIL_URL: Django's mailer for smtp://, console:// and file://, or a
provider's django-anymail backend for anymail://ESP (credentials from ANYMAIL_* variables)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

ANYMAIL_SCHEME = "anymail://"


def anymail_provider(email_url: str) -> str:
    """The provider anymail://ESP names ("" for any other URL); an unknown one stops the app."""
    if not email_url.startswith(ANYMAIL_SCHEME):
        return ""
    esp = email_url.removeprefix(ANYMAIL_SCHEME).strip("/").lower()
    if not esp.isidentifier() or importlib.util.find_spec(f"anymail.backends.{esp}") is None:
        raise ImproperlyConfigured(
            f"Bad environment variable EMAIL_URL: django-anymail has no provider {esp!r} "
            "(anymail://postmark, anymail://mailgun, anymail://sendgrid, anymail://amazon_ses...)"
        )
    return esp


def anymail_backend(esp: str) -> dict[str, Any]:
    return {"EMAIL_BACKEND": f"anymail.backends.{esp}.EmailBackend"}


def anymail_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """django-anymail's settings, e.g. ANYMAIL_POSTMARK_SERVER_TOKEN and ANYMAIL_WEBHOOK_SECRET
    ("user:password" that the provider's webhook posts with), without the prefix."""
    return {
        name.removeprefix("ANYMAIL_"): value
        for name, value in environ.items()
        if name.startswith("ANYMAIL_") and value
    }


def mailer(config: Mapping[str, Any]) -> dict[str, Any]:
    """Django's MAILERS["default"] from a dj-email-url config (or anymail_backend())."""
    if "EMAIL_BACKEND" not in config:
        raise ImproperlyConfigured(
            "Bad environment variable EMAIL_URL: use smtp://, submission://, console://, "
            "file:// or anymail://ESP"
        )
    options: dict[str, object] = {}
    if config["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        options = {
            "host": config.get("EMAIL_HOST") or "localhost",
            "port": config.get("EMAIL_PORT") or 25,
            "username": config.get("EMAIL_HOST_USER", ""),
            "password": config.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": bool(config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(config.get("EMAIL_USE_SSL")),
            "timeout": 20,
        }
    elif config.get("EMAIL_FILE_PATH"):
        options = {"file_path": config["EMAIL_FILE_PATH"]}
    return {"BACKEND": config["EMAIL_BACKEND"], "OPTIONS": options}
