"""Reading notifications: the bell's count (one query) and a member's recent ones."""

from __future__ import annotations

from trialsnest.notifications.models import Notification
from trialsnest.tenancy.models import Membership

SHOWN = 50
COUNT_CAP = 99  # the bell says 99+ past this; counting further reads rows nobody looks at


def unread_count(member: Membership) -> int:
    return Notification.objects.filter(recipient_id=member.pk, read_at__isnull=True)[
        : COUNT_CAP + 1
    ].count()


def bell_count(member: Membership) -> int | None:
    """The count read with the request's principal (None when it was read without it)."""
    count = getattr(member, "unread", None)
    return None if count is None else int(count)


def recent_notifications(member: Membership) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient_id=member.pk).order_by("-created_at", "-id")[:SHOWN]
    )
