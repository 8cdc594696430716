"""The visitor's address, for rate limits, the sign-in lockout and the audit log.

Without a proxy it is REMOTE_ADDR. Behind the TLS proxy (BEHIND_TLS_PROXY) REMOTE_ADDR is the
proxy, and the visitor's address is the one the proxy appended to X-Forwarded-For: the header's
last entry. Entries before it came from the client and can be forged, so they are never used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    if not settings.BEHIND_TLS_PROXY:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return remote  # no header, or not an address: the proxy's own is all we know
