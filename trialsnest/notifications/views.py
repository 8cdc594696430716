"""The bell and the list behind it.

The bell polls with htmx (`hx-trigger="every 30s"`) rather than server-sent events: a count
that is half a minute old is fine for follow-ups, polling needs no long-lived connection per
open tab (gunicorn's sync workers), and the count comes with the request's own principal query
(trialsnest.tenancy.principal), so the poll is that one query. Pages draw the bell with its
count the same way; without JavaScript the link still leads to the list.
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from trialsnest.notifications.selectors import (
    COUNT_CAP,
    bell_count,
    recent_notifications,
    unread_count,
)
from trialsnest.notifications.services import notifications_mark_read
from trialsnest.tenancy.gatekeepers import active_membership, member_required, not_for_sponsors
from trialsnest.tenancy.http import TenantRequest


@not_for_sponsors
@member_required()
@require_GET
def notifications_bell(request: TenantRequest) -> HttpResponse:
    member = active_membership(request)
    count = bell_count(member)
    if count is None:  # the membership was read without its count
        count = unread_count(member)
    return render(
        request, "notifications/_bell.html", {"count": count, "capped": count > COUNT_CAP}
    )


@not_for_sponsors
@member_required()
@require_GET
def notifications_list(request: TenantRequest) -> HttpResponse:
    member = active_membership(request)
    return render(
        request, "notifications/list.html", {"notifications": recent_notifications(member)}
    )


@not_for_sponsors
@member_required()
@require_POST
def notifications_read(request: TenantRequest) -> HttpResponseBase:
    notifications_mark_read(member=active_membership(request))
    if request.htmx:
        return render(request, "notifications/_bell.html", {"count": 0, "capped": False})
    return redirect("notifications")
