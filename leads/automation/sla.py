"""SLA targets: a lead past its status's target (first response, prescreen review, records
request, scheduling) is flagged and its owner notified; past a further delay in the site's
business hours (the StudySite's sla_escalate_after_hours) it is escalated to whoever must
decide for what blocks it (the StudySite's study-team reviewers for a lead awaiting the study
team's review, the site leads for the rest), saying why the patient is waiting.

Both steps claim in the database: an UPDATE that sets the flag only where it is not set yet
returns the leads it flagged, so two copies at once notify once, and notifications are unique
per (recipient, key) as well. A flag belongs to one target (sla_flagged_for = sla_due_at): a new
status brings a new target and so a lead unflagged, with no step of its own.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from leads.models import OPEN_Q, SLA_FIELD, Blocker, Lead, Policy, Status
from leads.services.policies import policy_for
from trialsnest.audit.services import audit_record_each
from trialsnest.lib.business_hours import add_business_hours
from trialsnest.notifications.models import Kind
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.ops.jobs import JobCounts, job_run
from trialsnest.tenancy.models import Membership, Role

BATCH = 1_000

TARGET = {
    "sla_first_response_hours": "first-response",
    "sla_prescreen_review_hours": "prescreen-review",
    "sla_records_request_hours": "records-request",
    "sla_scheduling_hours": "scheduling",
}
# Why the patient is waiting, by what blocks the lead (else by its status).
WHY_BLOCKED: dict[str, str] = {
    Blocker.AWAITING_REVIEW: "waiting on the study team's review",
    Blocker.MISSING_RECORDS: "waiting for missing medical records",
    Blocker.SCHEDULING_CONSTRAINT: "waiting for a visit slot (scheduling capacity)",
    Blocker.PATIENT_AVAILABILITY: "waiting for a time the patient can make",
    Blocker.NO_RESPONSE: "waiting for the patient to answer",
    Blocker.AWAITING_CALLBACK: "waiting for the promised call back",
}
WHY_STATUS: dict[str, str] = {
    Status.NEW: "waiting for a first contact from the team",
    Status.NEEDS_REVIEW: "waiting on the study team's review of the prescreen",
    Status.RECORDS_PENDING: "waiting for medical records to be requested",
    Status.RECORDS_READY: "waiting for a screening visit to be booked",
}


def why_waiting(lead: Lead) -> str:
    return WHY_BLOCKED.get(lead.blocker) or WHY_STATUS.get(lead.status, "waiting on the team")


def _target(lead: Lead) -> str:
    return TARGET.get(SLA_FIELD.get(lead.status, ""), "SLA")


def _unflagged(now: datetime) -> Q:
    return (
        OPEN_Q
        & Q(sla_due_at__lte=now)
        & (Q(sla_flagged_for__isnull=True) | ~Q(sla_flagged_for=F("sla_due_at")))
    )


@transaction.atomic
def sla_flag(*, now: datetime, limit: int = BATCH, counts: JobCounts | None = None) -> int:
    """Flag the leads whose target passed by `now`, and tell each owner."""
    ids = list(
        Lead.objects.filter(_unflagged(now))
        .exclude(blocker=Blocker.STUDY_PAUSED)
        .order_by("sla_due_at")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return 0
    # Locks and re-checks each row: a copy running at the same moment gets none of these.
    flagged = list(
        Lead.objects.select_for_update(skip_locked=True)
        .filter(_unflagged(now), pk__in=ids)
        .only("id", "code", "organization_id", "owner_id", "status", "blocker", "sla_due_at")
    )
    Lead.objects.filter(pk__in=[lead.pk for lead in flagged]).update(
        sla_flagged_for=F("sla_due_at")
    )
    notify_many(
        Notice(
            organization_id=lead.organization_id,
            recipient_id=lead.owner_id,
            kind=Kind.SLA_MISSED,
            key=f"sla:{lead.code}:{lead.sla_due_at:%Y%m%dT%H%M%S}",
            reason=f"Past the {_target(lead)} target: {why_waiting(lead)}",
            lead_code=lead.code,
        )
        for lead in flagged
        if lead.owner_id is not None
    )
    _audit(flagged, "lead.sla_missed", counts, "flagged")
    return len(flagged)


def _escalation_due(lead: Lead, policy: Policy) -> datetime:
    site = lead.study_site.site
    assert lead.sla_due_at is not None
    return add_business_hours(
        lead.sla_due_at,
        policy.sla_escalate_after_hours,
        timezone=site.timezone,
        opens=site.opens_at,
        closes=site.closes_at,
        days=list(site.business_days),
    )


def _site_leads(organization_id: int, site_id: int) -> list[int]:
    """The site leads of a site: a site lead with no site restriction, or restricted to it."""
    return list(
        Membership.objects.filter(
            organization_id=organization_id, role=Role.SITE_LEAD, is_active=True
        )
        .filter(Q(restricted_sites__isnull=True) | Q(restricted_sites=site_id))
        .values_list("id", flat=True)
        .distinct()
    )


def awaits_study_team(lead: Lead) -> bool:
    return lead.blocker == Blocker.AWAITING_REVIEW or lead.status == Status.NEEDS_REVIEW


def _deciders(lead: Lead, policy: Policy) -> tuple[list[int], str]:
    """Who must decide for an escalated lead, and a note when it is not the usual role: the
    study-team reviewers of its policy for a lead awaiting the study team's review (the site
    leads, who take it to the team, when none is named); the site leads for the rest."""
    if awaits_study_team(lead):
        team = list(policy.study_team.filter(is_active=True).values_list("id", flat=True))
        if team:
            return team, ""
        note = " (no study-team reviewer is named for this study: to the site leads)"
        return _site_leads(lead.organization_id, lead.study_site.site_id), note
    return _site_leads(lead.organization_id, lead.study_site.site_id), ""


@transaction.atomic
def sla_escalate(*, now: datetime, limit: int = BATCH, counts: JobCounts | None = None) -> int:
    """Escalate flagged leads whose further delay (business hours) passed by `now`."""
    candidates = list(
        Lead.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(OPEN_Q, sla_flagged_for=F("sla_due_at"))
        .filter(Q(sla_escalated_for__isnull=True) | ~Q(sla_escalated_for=F("sla_due_at")))
        .select_related("study_site__site")
        .order_by("sla_due_at")[:limit]
    )
    due = [lead for lead in candidates if _escalation_due(lead, policy_for(lead.study_site)) <= now]
    if not due:
        return 0
    Lead.objects.filter(pk__in=[lead.pk for lead in due]).update(sla_escalated_for=F("sla_due_at"))
    deciders: dict[tuple[int, bool], tuple[list[int], str]] = {}
    notices = []
    for lead in due:
        where = (lead.study_site_id, awaits_study_team(lead))
        if where not in deciders:
            deciders[where] = _deciders(lead, policy_for(lead.study_site))
        recipients, note = deciders[where]
        for recipient in recipients:
            notices.append(
                Notice(
                    organization_id=lead.organization_id,
                    recipient_id=recipient,
                    kind=Kind.ESCALATION,
                    key=f"escalation:{lead.code}:{lead.sla_due_at:%Y%m%dT%H%M%S}",
                    reason=f"Escalated, {_target(lead)} target missed: {why_waiting(lead)}{note}",
                    lead_code=lead.code,
                )
            )
    notify_many(notices)
    _audit(due, "lead.sla_escalated", counts, "escalated")
    return len(due)


def _audit(leads: list[Lead], action: str, counts: JobCounts | None, name: str) -> None:
    by_org: dict[int, list[tuple[str, dict[str, object]]]] = {}
    for lead in leads:
        change: dict[str, object] = {
            "sla_due_at": {"new": lead.sla_due_at.isoformat() if lead.sla_due_at else None}
        }
        by_org.setdefault(lead.organization_id, []).append((str(lead.code), change))
    for organization_id, changes in by_org.items():
        if counts is not None:
            counts.add(name, organization_id, len(changes))
        audit_record_each(
            action=action,
            actor_id=None,
            organization_id=organization_id,
            object_type="lead",
            changes=changes,
        )


def sla_scan(*, now: datetime | None = None) -> tuple[int, int]:
    """Beat: flag what passed its target, escalate what passed the further delay."""
    now = now or timezone.now()
    with job_run("sla") as counts:
        counts.touch("flagged", "escalated")
        flagged = sla_flag(now=now, counts=counts)
        escalated = sla_escalate(now=now, counts=counts)
    return flagged, escalated
