"""Writing notifications: set-based, once per (recipient, key)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from trialsnest.notifications.models import Notification
from trialsnest.tenancy.models import Membership


@dataclass(frozen=True)
class Notice:
    organization_id: int
    recipient_id: int
    kind: str
    key: str
    reason: str
    lead_code: UUID | str | None = None


def notify_many(notices: Iterable[Notice]) -> int:
    """Write the notices not written before (by recipient and key); returns how many are new.
    Safe to run twice, and concurrently: the unique key decides, in the database."""
    rows = list(notices)
    if not rows:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO notifications_notification
                (organization_id, recipient_id, kind, key, reason, lead_code, created_at)
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[],
                                 %s::text[], %s::uuid[], %s::timestamptz[])
            ON CONFLICT (recipient_id, key) DO NOTHING
            """,
            [
                [n.organization_id for n in rows],
                [n.recipient_id for n in rows],
                [n.kind for n in rows],
                [n.key[:200] for n in rows],
                [n.reason[:200] for n in rows],
                [str(n.lead_code) if n.lead_code else None for n in rows],
                [timezone.now()] * len(rows),
            ],
        )
        return int(cursor.rowcount)


@transaction.atomic
def notifications_mark_read(*, member: Membership) -> int:
    """Mark every unread notification of the member read (opening the list does)."""
    return Notification.objects.filter(recipient=member, read_at__isnull=True).update(
        read_at=timezone.now()
    )
