"""The leads behind a dashboard figure: the same definitions the rollups count with
(reporting/rollups.py), read from the leads themselves, for staff to open one by one."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.db.models import F, Q, QuerySet

from leads.models import Lead, Status
from reporting.selectors import STAGES, Filters

MEASURES: dict[str, str] = {
    **dict(STAGES),
    "closed": "Closed",
    "open": "Open",
    "sla_missed": "First-contact SLA missed",
    "stale": "Stale",
}
_OPEN = ~Q(status__in=[Status.HANDED_OFF, Status.CLOSED])


def measure_q(measure: str, now: datetime) -> Q:
    reached = {
        "received": Q(),
        "contacted": Q(first_contact_at__isnull=False),
        "prescreened": Q(prescreened_at__isnull=False),
        "records_ready": Q(records_ready_at__isnull=False),
        "scheduled": Q(scheduled_at__isnull=False),
        "handed_off": Q(handed_off_at__isnull=False),
    }
    if measure in reached:
        return reached[measure]
    return {
        "closed": Q(status=Status.CLOSED),
        "open": _OPEN,
        "sla_missed": Q(sla_due_at__isnull=False)
        & (
            Q(first_contact_at__gt=F("sla_due_at"))
            | Q(first_contact_at__isnull=True, sla_due_at__lt=now)
        ),
        "stale": _OPEN & Q(stale_at__lte=now),
    }[measure]


def leads_behind(
    *, organization_id: int, filters: Filters, measure: str, now: datetime
) -> QuerySet[Lead]:
    """The leads a figure counts: received on the filters' days (UTC, as the cohorts are)."""
    start = datetime.combine(filters.start, time(), tzinfo=UTC)
    end = datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=UTC)
    leads = Lead.objects.filter(
        organization_id=organization_id, received_at__gte=start, received_at__lt=end
    )
    if filters.study_site_ids is not None:
        leads = leads.filter(study_site_id__in=filters.study_site_ids)
    if filters.source:
        leads = leads.filter(source=filters.source)
    return leads.filter(measure_q(measure, now))
