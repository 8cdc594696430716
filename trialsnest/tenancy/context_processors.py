"""What the shell needs on every page: the active organization and the role's navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from trialsnest.notifications.selectors import COUNT_CAP
from trialsnest.tenancy.models import Membership, Role

NAV: dict[str, list[tuple[str, str]]] = {
    Role.COORDINATOR: [
        ("queue", "Queue"),
        ("records_providers", "Providers"),
        ("outreach_inbox", "Replies"),
    ],
    Role.SITE_LEAD: [
        ("queue", "Queue"),
        ("dashboard", "Dashboard"),
        ("team", "Team"),
        ("import_list", "Imports"),
        ("duplicate_list", "Duplicates"),
        ("records_providers", "Providers"),
        ("outreach_inbox", "Replies"),
    ],
    Role.ORG_ADMIN: [
        ("queue", "Queue"),
        ("dashboard", "Dashboard"),
        ("team", "Team"),
        ("import_list", "Imports"),
        ("duplicate_list", "Duplicates"),
        ("records_providers", "Providers"),
        ("outreach_inbox", "Replies"),
        ("settings_users", "Settings"),
    ],
    "sponsor": [("sponsor_reports", "Reports")],
}
# A nav item is the current page's when the path starts with its own address, or with the
# address of one of these pages, for the items that stand for a whole section.
SECTIONS: dict[str, tuple[str, ...]] = {
    "settings_users": ("outreach_settings", "outreach_templates"),
}


def _nav(request: HttpRequest, items: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(address, label, whether it is the current page's) for each item."""
    entries = []
    for name, label in items:
        url = reverse(name)
        prefixes = (url, *(reverse(page) for page in SECTIONS.get(name, ())))
        entries.append((url, label, request.path.startswith(prefixes)))
    return entries


def shell(request: HttpRequest) -> dict[str, Any]:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is not None:
        nav = NAV[membership.role]
    elif getattr(request, "sponsor_membership", None) is not None:
        nav = NAV["sponsor"]
    else:
        nav = []
    return {
        "nav": _nav(request, nav),
        "active_membership": membership,
        "has_other_organizations": getattr(request, "has_other_organizations", False),
        "pending_invitations": getattr(request, "pending_invitations", 0),
        # The bell's unread count, read with the principal (None: the bell fetches it on load).
        "bell_count": getattr(membership, "unread", None),
        "bell_capped": (getattr(membership, "unread", None) or 0) > COUNT_CAP,
    }
