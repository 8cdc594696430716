"""Queueing many messages a job drafted (appointment reminders), set-based.

One INSERT claims every draft by its idempotency key (ON CONFLICT DO NOTHING: a draft queued
by an earlier run, or by a copy running at this moment, is not queued again), one INSERT writes
their timeline entries, COPY writes their audit rows, and the new messages are handed to the
workers after commit, a hundred to a task (a message whose task is lost stays queued, and the
beat's messages_requeue_stale hands it on again). The messages are queued unchecked: consent,
opt-outs, a paused SMS and quiet hours are checked when each is sent (message_deliver), which
is where they must hold anyway, and a refused one is kept blocked with its reason there. One
member's send from the lead page still goes through message_queue, which refuses at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from leads.models import ActivityKind, Direction
from trialsnest.audit.services import audit_record_each
from trialsnest.ops.outbox import enqueue_swept

DELIVER_MANY_TASK = "leads.outreach.tasks.deliver_messages"
# Messages per task: a publish costs about a millisecond, so one per message would cap a job
# near a thousand a second; a hundred a task still spreads a batch over the workers.
HAND_OUT = 100


@dataclass(frozen=True)
class Draft:
    organization_id: int
    person_id: int
    lead_id: int | None
    lead_version: int
    channel: str
    to: str
    subject: str
    body: str
    key: str


_CLAIM = """
    WITH drafts AS (
        SELECT * FROM unnest(%(org)s::bigint[], %(person)s::bigint[], %(lead)s::bigint[],
                             %(channel)s::text[], %(to)s::text[], %(subject)s::text[],
                             %(body)s::text[], %(key)s::text[], %(version)s::int[])
            AS d(organization_id, person_id, lead_id, channel, "to", subject, body, key, version)
    ),
    claimed AS (
        INSERT INTO leads_outboundmessage
            (code, organization_id, person_id, lead_id, channel, purpose, idempotency_key,
             status, reason, "to", subject, body, calendar, provider_id, created_at)
        SELECT gen_random_uuid(), organization_id, person_id, lead_id, channel, %(purpose)s,
               key, 'queued', '', "to", subject, body, '', '', %(now)s
        FROM drafts
        ON CONFLICT (organization_id, idempotency_key) DO NOTHING
        RETURNING id, code, organization_id, lead_id, channel, body, idempotency_key
    ),
    timeline AS (
        INSERT INTO leads_activity
            (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome, text, data)
        SELECT c.organization_id, c.lead_id, %(activity)s, %(now)s, NULL, c.channel,
               %(outbound)s, '', c.body,
               jsonb_build_object('message', c.code::text, 'status', 'queued', 'reason', '',
                                  'purpose', %(purpose)s::text, 'version', d.version)
        FROM claimed c JOIN drafts d ON d.key = c.idempotency_key
             AND d.organization_id = c.organization_id
        WHERE c.lead_id IS NOT NULL
    )
    SELECT id, code::text, organization_id, channel FROM claimed
"""


def messages_queue_many(drafts: Sequence[Draft], *, purpose: str) -> list[tuple[int, int]]:
    """Queue the drafts not queued before; returns (id, organization id) of each new message.
    Call inside a transaction (the job's)."""
    if not drafts:
        return []
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM,
            {
                "org": [d.organization_id for d in drafts],
                "person": [d.person_id for d in drafts],
                "lead": [d.lead_id for d in drafts],
                "channel": [d.channel for d in drafts],
                "to": [d.to for d in drafts],
                "subject": [d.subject for d in drafts],
                "body": [d.body for d in drafts],
                "key": [d.key[:200] for d in drafts],
                "version": [d.lead_version for d in drafts],
                "purpose": purpose,
                "now": now,
                "activity": ActivityKind.MESSAGE,
                "outbound": Direction.OUTBOUND,
            },
        )
        claimed = cursor.fetchall()
    by_org: dict[int, list[tuple[str, dict[str, object]]]] = defaultdict(list)
    for _id, code, organization_id, channel in claimed:
        by_org[organization_id].append(
            (code, {"channel": {"new": channel}, "status": {"new": "queued"},
                    "purpose": {"new": purpose}})
        )  # fmt: skip
    for organization_id, changes in by_org.items():
        audit_record_each(
            action="message.queued",
            actor_id=None,
            organization_id=organization_id,
            object_type="outboundmessage",
            changes=changes,
        )
    ids = [row[0] for row in claimed]
    for start in range(0, len(ids), HAND_OUT):
        enqueue_swept(DELIVER_MANY_TASK, ids[start : start + HAND_OUT])
    return [(row[0], row[2]) for row in claimed]
