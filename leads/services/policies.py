"""A StudySite's contact cadence and SLA targets, and the times they give a lead.

Every lead-changing service ends with `refresh_attention`, so the queue's one sort key (when
the lead next needs someone) always follows the next action and the last movement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from leads.models import SLA_FIELD, Lead, Policy, check_cadence
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.lib.business_hours import add_business_hours
from trialsnest.studies.models import StudySite

POLICY_FIELDS = (
    "cadence_hours",
    "final_wait_hours",
    "sla_first_response_hours",
    "sla_prescreen_review_hours",
    "sla_records_request_hours",
    "sla_scheduling_hours",
    "stale_after_days",
)


def policy_for(study_site: StudySite) -> Policy:
    """The StudySite's policy (the defaults until a site lead changes them), once per object
    (or none at all when it came with the StudySite: select_related("study_site__policy"))."""
    policy = getattr(study_site, "_policy_cache", None)
    if policy is None and isinstance(study_site._state.fields_cache.get("policy"), Policy):
        policy = study_site._state.fields_cache["policy"]
    if policy is None:
        policy, _ = Policy.objects.get_or_create(study_site=study_site)
        study_site._policy_cache = policy  # type: ignore[attr-defined]
    return policy


def sla_deadline(lead: Lead, policy: Policy, since: datetime) -> datetime | None:
    """When the current status's SLA target is missed, counted in the site's business hours."""
    field = SLA_FIELD.get(lead.status)
    if field is None:
        return None
    site = lead.study_site.site
    return add_business_hours(
        since,
        getattr(policy, field),
        timezone=site.timezone,
        opens=site.opens_at,
        closes=site.closes_at,
        days=list(site.business_days),
    )


def refresh_attention(lead: Lead, policy: Policy) -> None:
    """Derive the queue order from the next action, the last movement and a snooze.

    attention_at is the sooner of the next action's due time and the moment the lead turns
    stale, but never before a snooze ends: the Due now and Stale tabs ask for attention_at to
    have come as well as their own time, so a snoozed lead leaves both until it wakes.
    """
    if not lead.is_open:
        lead.next_action, lead.next_action_due_at = "", None
        lead.attention_at = lead.stale_at = lead.sla_due_at = lead.snoozed_until = None
        lead.stale_marked_at = None
        return
    if lead.stale_marked_at is not None and lead.last_movement_at > lead.stale_marked_at:
        lead.stale_marked_at = None  # it moved since the sweep found it stale
    lead.stale_at = lead.last_movement_at + timedelta(days=policy.stale_after_days)
    due = lead.next_action_due_at
    attention = min(due, lead.stale_at) if due else lead.stale_at
    if lead.snoozed_until is not None:
        attention = max(attention, lead.snoozed_until)
    lead.attention_at = attention


@transaction.atomic
def policy_update(*, policy: Policy, form_data: dict[str, Any], actor: Actor) -> Policy:
    """Save a StudySite's cadence and SLA targets. New targets apply from the next movement."""
    before = {name: getattr(Policy.objects.get(pk=policy.pk), name) for name in POLICY_FIELDS}
    policy.cadence_hours = list(form_data["cadence"])
    for name in POLICY_FIELDS[1:]:
        setattr(policy, name, form_data[name])
    # The bounds live on the model (leads.models.Policy): every door meets them, not only the form.
    try:
        check_cadence(policy.cadence_hours)
    except ValidationError as error:
        raise ValidationError({"cadence": error.messages}) from None
    policy.full_clean(exclude=["study_site"])
    policy.save()
    changes = changed_fields(
        old=before, new={name: getattr(policy, name) for name in POLICY_FIELDS}
    )
    if "study_team" in form_data:
        team_before = sorted(str(m.code) for m in policy.study_team.all())
        policy.study_team.set(form_data["study_team"])
        team_after = sorted(str(m.code) for m in form_data["study_team"])
        if team_after != team_before:
            changes["study_team"] = {"old": team_before, "new": team_after}
    audit_record(
        action="policy.updated",
        actor=actor.user,
        organization_id=policy.study_site.organization_id,
        object_type="studysite",
        object_id=str(policy.study_site.code),
        changes=changes,
        request=actor.request,
    )
    return policy
