"""How django-axes names the account a sign-in attempt is for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest


def lockout_username(request: HttpRequest, credentials: Mapping[str, Any] | None) -> str | None:
    """The submitted address, lowercased: every spelling of one address counts against it."""
    source: Mapping[str, Any] = credentials or getattr(request, "data", request.POST)
    value = source.get("username")
    return str(value).strip().lower() if value else None
