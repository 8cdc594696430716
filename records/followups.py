"""Records follow-ups: an outstanding request past its due date reminds the lead's owner, and
after SITE_LEAD_AFTER more days its site's site leads. Once per request and due date (the
notification's key): a new request, with its own due date, starts again. One query for what is
overdue over the whole table (the outstanding-requests index), written set-based."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from django.db.models import F, Q
from django.utils import timezone

from leads.models import OPEN_STATUSES
from records.models import ItemState, RecordItem
from trialsnest.notifications.models import Kind
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.ops.jobs import job_run
from trialsnest.tenancy.models import Membership, Role

SITE_LEAD_AFTER = timedelta(days=7)


def records_follow_up(*, today: date | None = None) -> tuple[int, int]:
    """Beat: (owners reminded, site-lead notices) newly written for overdue requests."""
    today = today or timezone.localdate()
    with job_run("records_follow_up") as counts:
        counts.touch("owners_reminded", "site_leads_told")
        overdue = list(
            RecordItem.objects.filter(
                state=ItemState.REQUESTED, due_on__lt=today, lead__status__in=OPEN_STATUSES
            )
            .annotate(
                owner=F("lead__owner_id"),
                site=F("lead__study_site__site_id"),
                code_=F("lead__code"),
            )
            .values_list("code", "organization_id", "owner", "site", "code_", "due_on")
        )
        owners = notify_many(
            Notice(
                organization_id=org,
                recipient_id=owner,
                kind=Kind.DUE,
                key=f"records-overdue:{item}:{due_on:%Y%m%d}",
                reason=f"A records request was due on {due_on:%Y-%m-%d} and has not come",
                lead_code=lead,
            )
            for item, org, owner, _site, lead, due_on in overdue
            if owner is not None
        )
        # Every row is overdue, so its due date is set (the filter); the cast is for mypy.
        late = [row for row in overdue if cast(date, row[5]) < today - SITE_LEAD_AFTER]
        leads_of: dict[tuple[int, int], list[int]] = {}
        notices = []
        for item, org, _owner, site, lead, due_on in late:
            if (org, site) not in leads_of:
                leads_of[(org, site)] = list(
                    Membership.objects.filter(
                        organization_id=org, role=Role.SITE_LEAD, is_active=True
                    )
                    .filter(Q(restricted_sites__isnull=True) | Q(restricted_sites=site))
                    .values_list("id", flat=True)
                    .distinct()
                )
            notices += [
                Notice(
                    organization_id=org,
                    recipient_id=recipient,
                    kind=Kind.ESCALATION,
                    key=f"records-escalation:{item}:{due_on:%Y%m%d}",
                    reason=f"Waiting for medical records since {due_on:%Y-%m-%d}: the provider "
                    "has not sent them after the owner's reminder",
                    lead_code=lead,
                )
                for recipient in leads_of[(org, site)]
            ]
        told = notify_many(notices)
        for _item, org, *_ in overdue:
            counts.add("overdue_requests", org)
        counts.total["owners_reminded"] = owners
        counts.total["site_leads_told"] = told
    return owners, told
