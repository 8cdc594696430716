from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from trialsnest.tenancy.gatekeepers import member_required


@member_required()
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/queue.html")
