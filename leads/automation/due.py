"""What falls due: leads whose attention time comes in the next few minutes, for the owner's
bell ("a lead of yours is due"). The scan reads the queue's own index (organization,
attention_at) for every organization at once, so it costs what is due, not the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from leads.models import OPEN_STATUSES, Blocker
from trialsnest.notifications.models import Kind
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.ops.jobs import job_run
from trialsnest.tenancy.models import Organization

WINDOW = timedelta(minutes=5)

_DUE_SOON = """
    SELECT l.organization_id, l.owner_id, l.code, l.attention_at, l.next_action
    FROM leads_lead l
    JOIN tenancy_membership m ON m.id = l.owner_id
    WHERE l.organization_id = ANY(%(orgs)s) AND l.status = ANY(%(open)s)
      -- held while the owner is out of office (the site lead sees them on the Team page)
      AND NOT (m.away_from IS NOT NULL AND m.away_from <= %(today)s AND %(today)s <= m.away_until)
      AND l.attention_at > %(since)s AND l.attention_at <= %(until)s
      AND l.blocker <> %(paused)s AND l.owner_id IS NOT NULL
"""


def due_soon(
    *, now: datetime, window: timedelta = WINDOW
) -> list[tuple[int, int, str, datetime, str]]:
    """(organization, owner, lead code, due time, next action) of what falls due from `now`
    (exclusive of what was due before it) to `now + window`."""
    organizations = list(Organization.objects.values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            _DUE_SOON,
            {
                "orgs": organizations,
                "open": list(OPEN_STATUSES),
                "since": now - window,
                "until": now + window,
                "paused": Blocker.STUDY_PAUSED,
                "today": timezone.localdate(now),
            },
        )
        return [tuple(row) for row in cursor.fetchall()]


def due_notify(*, now: datetime | None = None) -> int:
    """Beat, every minute: tell each owner of the leads that fall due (once per due time)."""
    now = now or timezone.now()
    with job_run("due_scan") as counts:
        counts.touch("notified_due")
        rows = due_soon(now=now)
        new = notify_many(
            Notice(
                organization_id=org,
                recipient_id=owner,
                kind=Kind.DUE,
                key=f"due:{code}:{due:%Y%m%dT%H%M%S}",
                reason=f"{action.replace('_', ' ').capitalize()} due at {due:%H:%M} UTC",
                lead_code=code,
            )
            for org, owner, code, due, action in rows
        )
        for org, *_ in rows:
            counts.add("due", org)
    return new
