"""Every refused authorisation of a signed-in user is in the audit log: a 403 (the role does not
include it) or a 404 (another organization's object, or none), with the method and the path
(ids only: query strings, which may carry names, are left out)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse

from trialsnest.audit.services import audit_record
from trialsnest.tenancy.http import TenantRequest

REFUSED = frozenset({403, 404})
NOT_AUDITED = ("/static/", "/favicon")


class RefusalAuditMiddleware:
    def __init__(self, get_response: Callable[[TenantRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in REFUSED
            and request.user.is_authenticated
            and not request.path.startswith(NOT_AUDITED)
        ):
            membership = getattr(request, "membership", None)
            audit_record(
                action="access.refused",
                actor=request.user,
                organization=membership.organization if membership else None,
                reason=f"{response.status_code} {request.method} {request.path[:300]}",
                request=request,
            )
        return response
