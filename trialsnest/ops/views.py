"""What load balancers and operators ask the running app."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from trialsnest.ops.health import report


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers ("ok", or "degraded" with the failing dependency named:
    the app still takes interest forms without Redis); 503 when it does not."""
    alive, body = report()
    return JsonResponse(body, status=200 if alive else 503)
