"""Every write to people and leads. Atomic, audited in the same transaction.

Lead-changing services take the `version` the user saw; a save based on an older version raises
LeadConflict instead of overwriting what someone else did meanwhile.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from leads.business_hours import add_business_hours
from leads.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    ActionKind,
    Activity,
    ActivityKind,
    Blocker,
    Channel,
    CloseReason,
    Lead,
    OptOut,
    Outcome,
    Person,
    Policy,
    SavedView,
    Status,
)
from leads.phones import e164
from trialsnest.accounts.models import User
from trialsnest.audit.services import audit_record, changed_fields
from trialsnest.studies.models import RecruitmentStatus, StudySite
from trialsnest.tenancy.models import Membership, Organization, Role

# The next action a status implies when the user does not choose one, and the SLA that applies.
DEFAULT_ACTION: dict[str, str] = {
    Status.NEW: ActionKind.FIRST_CONTACT,
    Status.CONTACTING: ActionKind.FOLLOW_UP,
    Status.PRESCREENING: ActionKind.CONDUCT_PRESCREEN,
    Status.NEEDS_REVIEW: ActionKind.REVIEW_PRESCREEN,
    Status.RECORDS_PENDING: ActionKind.REQUEST_RECORDS,
    Status.RECORDS_READY: ActionKind.SCHEDULE_VISIT,
    Status.VISIT_SCHEDULED: ActionKind.CONFIRM_VISIT,
}
SLA_FIELD: dict[str, str] = {
    Status.NEW: "sla_first_response_hours",
    Status.NEEDS_REVIEW: "sla_prescreen_review_hours",
    Status.RECORDS_PENDING: "sla_records_request_hours",
    Status.RECORDS_READY: "sla_scheduling_hours",
}
MILESTONE: dict[str, str] = {
    Status.PRESCREENING: "prescreened_at",
    Status.RECORDS_READY: "records_ready_at",
    Status.VISIT_SCHEDULED: "scheduled_at",
    Status.HANDED_OFF: "handed_off_at",
    Status.CLOSED: "closed_at",
}
LEAD_FIELDS = (
    "status",
    "owner_id",
    "blocker",
    "blocker_text",
    "next_action",
    "next_action_due_at",
    "close_reason",
    "attempts",
)


class LeadConflict(Exception):
    """Someone saved this lead after the version the user was looking at."""

    def __init__(self, lead: Lead, seen_version: int, changes: list[Activity]) -> None:
        super().__init__("This lead was changed by someone else while you were looking at it.")
        self.lead = lead
        self.seen_version = seen_version
        self.changes = changes


class OptOutWarning(Exception):
    """Logging this contact needs confirmation: the person opted out of the channel."""


@dataclass
class Actor:
    """Who does something, and from where (for the audit trail)."""

    user: User | None
    request: HttpRequest | None = None


# Helpers ----------------------------------------------------------------------------------


def normalize_phone(value: str, region: str = "US") -> str:
    """E.164, or a ValidationError that says what is wrong."""
    normalized = e164(value, region)
    if normalized is None:
        raise ValidationError(f"“{value.strip()}” is not a valid phone number.")
    return normalized


def policy_for(study_site: StudySite) -> Policy:
    policy = getattr(study_site, "_policy_cache", None)
    if policy is None:
        policy, _ = Policy.objects.get_or_create(study_site=study_site)
        study_site._policy_cache = policy  # type: ignore[attr-defined]
    return policy


def sla_deadline(lead: Lead, policy: Policy, since: datetime) -> datetime | None:
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
    """Derive the queue order from the next action and the last movement."""
    if not lead.is_open:
        lead.next_action, lead.next_action_due_at = "", None
        lead.attention_at = lead.stale_at = lead.sla_due_at = None
        return
    lead.stale_at = lead.last_movement_at + timedelta(days=policy.stale_after_days)
    due = lead.next_action_due_at
    lead.attention_at = min(due, lead.stale_at) if due else lead.stale_at


def _lock(lead: Lead, seen_version: int | None) -> Lead:
    current = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("study_site__site", "person")
        .get(pk=lead.pk)
    )
    if seen_version is not None and current.version != seen_version:
        changes = list(
            current.activities.filter(data__version__gt=seen_version)
            .select_related("actor")
            .order_by("at", "id")
        )
        raise LeadConflict(current, seen_version, changes)
    return current


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in LEAD_FIELDS}


def _save(lead: Lead, before: dict[str, Any], actor: Actor, action: str, reason: str = "") -> None:
    lead.version += 1
    policy = policy_for(lead.study_site)
    refresh_attention(lead, policy)
    lead.save()
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes=changed_fields(old=before, new=_snapshot(lead)),
        reason=reason,
        request=actor.request,
    )


def _activity(lead: Lead, kind: str, actor: Actor, at: datetime, **fields: Any) -> Activity:
    data = dict(fields.pop("data", {}))
    data["version"] = lead.version
    return Activity.objects.create(
        organization_id=lead.organization_id,
        lead=lead,
        kind=kind,
        actor=actor.user,
        at=at,
        data=data,
        **fields,
    )


# People -----------------------------------------------------------------------------------


@transaction.atomic
def person_create(*, organization: Organization, actor: Actor, **fields: Any) -> Person:
    fields["phone"] = normalize_phone(fields.get("phone", ""))
    fields["email"] = fields.get("email", "").strip().lower()
    if not fields["phone"] and not fields["email"]:
        raise ValidationError("A phone number or an e-mail address is needed.")
    person = Person(organization=organization, **fields)
    person.full_clean()
    person.save()
    audit_record(
        action="person.created",
        actor=actor.user,
        organization=organization,
        obj=person,
        changes={name: {"phi": True} for name in Person.PHI_FIELDS if fields.get(name)},
        request=actor.request,
    )
    return person


@transaction.atomic
def person_record_opt_out(
    *,
    person: Person,
    channel: str,
    actor: Actor,
    evidence: str = "",
    at: datetime | None = None,
    lead: Lead | None = None,
) -> OptOut:
    """Add to the opt-out ledger and withdraw consent for the channel at once."""
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick a channel."})
    at = at or timezone.now()
    entry = OptOut.objects.create(
        person=person,
        channel=channel,
        at=at,
        evidence=evidence,
        consent_text_version=person.consent_text_version,
    )
    setattr(person, f"consent_{channel}", False)
    person.save(update_fields=[f"consent_{channel}", "updated_at"])
    audit_record(
        action="person.opted_out",
        actor=actor.user,
        organization_id=person.organization_id,
        obj=person,
        changes={f"consent_{channel}": {"old": True, "new": False}},
        request=actor.request,
    )
    if lead is not None:
        _activity(
            lead,
            ActivityKind.NOTE,
            actor,
            at,
            text=f"Opted out of {Channel(channel).label} contact. {evidence}".strip(),
            data={"opt_out": channel},
        )
    return entry


# Assignment -------------------------------------------------------------------------------


def eligible_owners(study_site: StudySite) -> QuerySet[Membership]:
    """Active members who may see this StudySite's leads (their restrictions allow it)."""
    through_sites = Membership.restricted_sites.through.objects.filter(membership_id=OuterRef("pk"))
    through_study_sites = Membership.restricted_study_sites.through.objects.filter(
        membership_id=OuterRef("pk")
    )
    return Membership.objects.filter(
        organization_id=study_site.organization_id, is_active=True
    ).filter(
        Q(role=Role.ORG_ADMIN)
        | (~Exists(through_sites) & ~Exists(through_study_sites))
        | Exists(through_sites.filter(site_id=study_site.site_id))
        | Exists(through_study_sites.filter(studysite_id=study_site.pk))
    )


def owners_for(
    study_site: StudySite, count: int, *, exclude: Membership | None = None
) -> list[Membership]:
    """Owners for `count` new leads by the fair, capacity-aware rule: the eligible coordinator
    with the fewest open leads (ties: longest since their last assignment), counting each lead
    as it is handed out and skipping anyone at capacity; else a site lead, else an org admin.

    Locks the candidates' memberships, so concurrent intake is serialized per organization and
    every count it compares is current. Call inside a transaction.
    """
    members = eligible_owners(study_site).select_for_update(of=("self",)).order_by("id")
    if exclude is not None:
        members = members.exclude(pk=exclude.pk)
    eligible = list(members)
    loads = dict(
        Lead.objects.filter(owner__in=eligible, status__in=OPEN_STATUSES)
        .values_list("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    epoch, latest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)

    def queue(role: Role) -> list[tuple[int, datetime, int, int, Membership]]:
        heap = [
            (loads.get(m.pk, 0), m.last_assigned_at or epoch, 0, m.pk, m)
            for m in eligible
            if m.role == role and not _full(m, loads.get(m.pk, 0))
        ]
        heapq.heapify(heap)
        return heap

    tiers = [queue(Role.COORDINATOR), queue(Role.SITE_LEAD), queue(Role.ORG_ADMIN)]
    owners: list[Membership] = []
    for turn in range(1, count + 1):
        tier = next((heap for heap in tiers if heap), None)
        if tier is None:
            raise ValidationError("Nobody in the organization can own leads of this study.")
        load, _, _, pk, member = heapq.heappop(tier)
        owners.append(member)
        if not _full(member, load + 1):
            # Just assigned: after everyone with the same load, in the order handed out.
            heapq.heappush(tier, (load + 1, latest, turn, pk, member))
    return owners


def _full(member: Membership, load: int) -> bool:
    """Coordinators stop at their capacity; site leads and admins are the fallback."""
    return (
        member.role == Role.COORDINATOR and member.capacity is not None and load >= member.capacity
    )


def choose_owner(study_site: StudySite, *, exclude: Membership | None = None) -> Membership:
    """The owner of one new lead (see owners_for)."""
    return owners_for(study_site, 1, exclude=exclude)[0]


def _mark_assigned(owner: Membership, now: datetime) -> None:
    Membership.objects.filter(pk=owner.pk).update(last_assigned_at=now)


# Leads ------------------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *,
    person: Person,
    study_site: StudySite,
    source: str,
    actor: Actor,
    received_at: datetime | None = None,
    owner: Membership | None = None,
    **attribution: Any,
) -> Lead:
    """A new lead: owned, status new, first contact due now (the cadence's first attempt)."""
    if person.organization_id != study_site.organization_id:
        raise ValidationError("The person and the study belong to different organizations.")
    now = received_at or timezone.now()
    owner = owner or choose_owner(study_site)
    lead = Lead(
        organization_id=study_site.organization_id,
        person=person,
        study_site=study_site,
        source=source,
        owner=owner,
        status=Status.NEW,
        next_action=ActionKind.FIRST_CONTACT,
        next_action_due_at=now,
        received_at=now,
        last_movement_at=now,
        status_changed_at=now,
        **attribution,
    )
    policy = policy_for(study_site)
    lead.sla_due_at = sla_deadline(lead, policy, now)
    if study_site.recruitment_status != RecruitmentStatus.RECRUITING:
        lead.blocker = Blocker.STUDY_PAUSED
    refresh_attention(lead, policy)
    lead.full_clean(exclude=["person", "study_site", "owner", "organization"])
    lead.save()
    _mark_assigned(owner, now)
    _activity(lead, ActivityKind.RECEIVED, actor, now, data={"source": source})
    _activity(lead, ActivityKind.ASSIGNMENT, actor, now, data={"owner": str(owner.code)})
    audit_record(
        action="lead.created",
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes=changed_fields(old={}, new=_snapshot(lead)),
        request=actor.request,
    )
    return lead


def _check_owner(lead: Lead, owner: Membership) -> None:
    if owner.organization_id != lead.organization_id or not owner.is_active:
        raise ValidationError({"owner": "Pick an active member of this organization."})
    if not eligible_owners(lead.study_site).filter(pk=owner.pk).exists():
        raise ValidationError(
            {"owner": f"{owner.user} cannot see this study's leads; pick someone who can."}
        )


def check_due_time(moment: datetime) -> None:
    """Due times stay within five years of now: a typo such as year 9999 is refused."""
    now = timezone.now()
    if not now - timedelta(days=5 * 365) <= moment <= now + timedelta(days=5 * 365):
        raise ValidationError("Pick a time within five years from now.")


@transaction.atomic
def lead_assign(*, lead: Lead, owner: Membership, actor: Actor, version: int | None = None) -> Lead:
    lead = _lock(lead, version)
    _check_owner(lead, owner)
    if not lead.is_open:
        raise ValidationError("Only open leads can be reassigned.")
    if owner.pk == lead.owner_id:
        return lead
    before, now = _snapshot(lead), timezone.now()
    lead.owner = owner
    _save(lead, before, actor, "lead.assigned")
    _mark_assigned(owner, now)
    _activity(lead, ActivityKind.ASSIGNMENT, actor, now, data={"owner": str(owner.code)})
    return lead


@transaction.atomic
def leads_reassign_all(
    *, from_owner: Membership, actor: Actor, to_owner: Membership | None = None
) -> int:
    """Hand every open lead of someone who leaves to `to_owner`, or by the assignment rule."""
    leads = list(
        Lead.objects.filter(owner=from_owner, status__in=OPEN_STATUSES)
        .select_related("study_site__site")
        .order_by("id")
    )
    for lead in leads:
        target = to_owner or choose_owner(lead.study_site, exclude=from_owner)
        lead_assign(lead=lead, owner=target, actor=actor)
    return len(leads)


@transaction.atomic
def lead_set_next_action(
    *,
    lead: Lead,
    kind: str,
    due_at: datetime,
    actor: Actor,
    version: int | None = None,
    note: str = "",
) -> Lead:
    lead = _lock(lead, version)
    if not lead.is_open:
        raise ValidationError("A closed lead has no next action.")
    if kind not in ActionKind.values:
        raise ValidationError({"kind": "Pick a next action."})
    check_due_time(due_at)
    before = _snapshot(lead)
    lead.next_action, lead.next_action_due_at = kind, due_at
    _save(lead, before, actor, "lead.next_action_set")
    _activity(
        lead,
        ActivityKind.NEXT_ACTION,
        actor,
        timezone.now(),
        text=note,
        data={"kind": kind, "due_at": due_at.isoformat()},
    )
    return lead


@transaction.atomic
def lead_snooze(*, lead: Lead, until: datetime, actor: Actor, version: int | None = None) -> Lead:
    if until <= timezone.now():
        raise ValidationError({"until": "Snooze until a time in the future."})
    lead = _lock(lead, version)
    return lead_set_next_action(
        lead=lead, kind=lead.next_action, due_at=until, actor=actor, note="Snoozed"
    )


@transaction.atomic
def lead_add_note(*, lead: Lead, text: str, actor: Actor) -> Activity:
    """Notes never conflict: they add to the timeline without changing the lead."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the note first."})
    lead = _lock(lead, None)
    audit_record(
        action="lead.note_added",
        actor=actor.user,
        organization_id=lead.organization_id,
        obj=lead,
        changes={"note": {"phi": True}},
        request=actor.request,
    )
    return _activity(lead, ActivityKind.NOTE, actor, timezone.now(), text=text)


@transaction.atomic
def lead_set_blocker(
    *, lead: Lead, blocker: str, actor: Actor, text: str = "", version: int | None = None
) -> Lead:
    lead = _lock(lead, version)
    if blocker and blocker not in Blocker.values:
        raise ValidationError({"blocker": "Pick a blocker."})
    if blocker == Blocker.OTHER and not text.strip():
        raise ValidationError({"blocker_text": "Say what blocks this lead."})
    paused = lead.study_site.recruitment_status != RecruitmentStatus.RECRUITING
    if paused and blocker != Blocker.STUDY_PAUSED:
        raise ValidationError(
            {"blocker": "The study is paused: its leads stay on hold until recruiting resumes."}
        )
    if not paused and blocker == Blocker.STUDY_PAUSED and lead.blocker != blocker:
        raise ValidationError(
            {"blocker": "“Study paused” is set when the study is paused in its settings."}
        )
    before = _snapshot(lead)
    lead.blocker, lead.blocker_text = blocker, text.strip() if blocker == Blocker.OTHER else ""
    _save(lead, before, actor, "lead.blocker_set")
    _activity(lead, ActivityKind.BLOCKER, actor, timezone.now(), data={"blocker": blocker})
    return lead


def opted_out_of(person: Person, channel: str) -> bool:
    return person.opt_outs.filter(channel=channel).exists()


@transaction.atomic
def lead_log_attempt(
    *,
    lead: Lead,
    channel: str,
    outcome: str,
    actor: Actor,
    direction: str = "outbound",
    note: str = "",
    callback_at: datetime | None = None,
    version: int | None = None,
    confirm_opt_out: bool = False,
) -> Lead:
    """Log a contact attempt and move the cadence on.

    Reached: first contact is recorded and the lead moves to contacting (from new); the next
    action becomes conducting the prescreen. Not reached: the next attempt is due by the
    StudySite's cadence; after the last one, "close as unreachable" is due when the final
    waiting period ends.
    """
    lead = _lock(lead, version)
    if not lead.is_open:
        raise ValidationError("Reopen the lead before logging contact.")
    if channel not in Channel.values:
        raise ValidationError({"channel": "Pick a channel."})
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Pick an outcome."})
    if not confirm_opt_out and opted_out_of(lead.person, channel):
        raise OptOutWarning(
            f"{lead.person.full_name} opted out of {Channel(channel).label.lower()} contact."
        )
    now, before = timezone.now(), _snapshot(lead)
    policy = policy_for(lead.study_site)
    lead.last_movement_at = now
    if outcome == Outcome.REACHED:
        lead.first_contact_at = lead.first_contact_at or now
        lead.attempts = 0
        if lead.status == Status.NEW:
            lead.status, lead.status_changed_at = Status.CONTACTING, now
        if lead.blocker in (Blocker.NO_RESPONSE, Blocker.AWAITING_CALLBACK):
            lead.blocker = ""
        if lead.status == Status.CONTACTING:
            lead.next_action, lead.next_action_due_at = ActionKind.CONDUCT_PRESCREEN, now
    elif outcome == Outcome.CALL_BACK_LATER:
        if callback_at is not None:
            check_due_time(callback_at)
        # They picked up and asked for another time: that is a first contact.
        lead.first_contact_at = lead.first_contact_at or now
        if lead.status == Status.NEW:
            lead.status, lead.status_changed_at = Status.CONTACTING, now
        lead.blocker = Blocker.AWAITING_CALLBACK
        lead.next_action = ActionKind.CALLBACK
        lead.next_action_due_at = callback_at or now + timedelta(days=1)
    else:
        lead.attempts += 1
        cadence = list(policy.cadence_hours) or [0]
        if lead.status == Status.NEW:
            lead.status, lead.status_changed_at = Status.CONTACTING, now
        if outcome == Outcome.WRONG_NUMBER:
            lead.blocker, lead.blocker_text = Blocker.OTHER, "Wrong number"
        elif not lead.blocker:
            lead.blocker = Blocker.NO_RESPONSE
        if lead.attempts < len(cadence):
            gap = cadence[lead.attempts] - cadence[lead.attempts - 1]
            lead.next_action = ActionKind.FOLLOW_UP
            lead.next_action_due_at = now + timedelta(hours=max(gap, 0))
        else:
            lead.next_action = ActionKind.CLOSE_UNREACHABLE
            lead.next_action_due_at = now + timedelta(hours=policy.final_wait_hours)
    if lead.status != before["status"]:
        lead.sla_due_at = sla_deadline(lead, policy, now)
    _save(lead, before, actor, "lead.contact_logged")
    _activity(
        lead,
        ActivityKind.CONTACT_ATTEMPT,
        actor,
        now,
        channel=channel,
        direction=direction,
        outcome=outcome,
        text=note.strip(),
        data={"opted_out_confirmed": True} if confirm_opt_out else {},
    )
    return lead


@transaction.atomic
def lead_change_status(
    *,
    lead: Lead,
    status: str,
    actor: Actor,
    reason: str = "",
    close_reason: str = "",
    next_action: str = "",
    due_at: datetime | None = None,
    version: int | None = None,
) -> Lead:
    lead = _lock(lead, version)
    if status not in TRANSITIONS[lead.status]:
        allowed = ", ".join(Status(s).label for s in TRANSITIONS[lead.status]) or "none"
        raise ValidationError(
            {
                "status": f"A lead that is {Status(lead.status).label.lower()} cannot move to "
                f"{(Status(status).label.lower() if status in Status.values else repr(status))}. "
                f"Allowed: {allowed}."
            }
        )
    reason = reason.strip()
    if status == Status.CLOSED and close_reason not in CloseReason.values:
        raise ValidationError({"close_reason": "Say why the lead is closed."})
    if lead.status == Status.CLOSED and not reason:
        raise ValidationError({"reason": "Say why the lead is reopened."})
    if due_at is not None:
        check_due_time(due_at)
    now, before = timezone.now(), _snapshot(lead)
    from_status = lead.status
    lead.status, lead.status_changed_at, lead.last_movement_at = status, now, now
    if field := MILESTONE.get(status):
        setattr(lead, field, now)
    lead.close_reason = close_reason if status == Status.CLOSED else ""
    if status in OPEN_STATUSES:
        lead.closed_at = None
        if lead.study_site.recruitment_status != RecruitmentStatus.RECRUITING:
            lead.blocker, lead.blocker_text = Blocker.STUDY_PAUSED, ""
        elif lead.blocker != Blocker.STUDY_PAUSED:
            lead.blocker, lead.blocker_text = "", ""
        lead.next_action = next_action or DEFAULT_ACTION[status]
        lead.next_action_due_at = due_at or now
        lead.sla_due_at = sla_deadline(lead, policy_for(lead.study_site), now)
        if lead.owner is None or not lead.owner.is_active:
            lead.owner = choose_owner(lead.study_site)
    _save(lead, before, actor, "lead.status_changed", reason=reason)
    _activity(
        lead,
        ActivityKind.STATUS_CHANGE,
        actor,
        now,
        text=reason,
        data={"from": from_status, "to": status, "close_reason": lead.close_reason},
    )
    return lead


# StudySite holds ---------------------------------------------------------------------------


@transaction.atomic
def study_site_hold_changed(*, study_site: StudySite, actor: Actor) -> int:
    """A paused or closed StudySite blocks its open leads ("study paused"); resuming frees them.

    Set-based: one UPDATE for the leads and one INSERT for their timeline entries.
    """
    holding = study_site.recruitment_status != RecruitmentStatus.RECRUITING
    open_leads = Lead.objects.filter(study_site=study_site, status__in=OPEN_STATUSES)
    new_blocker: str
    if holding:
        targets = open_leads.exclude(blocker=Blocker.STUDY_PAUSED)
        new_blocker = Blocker.STUDY_PAUSED
    else:
        targets = open_leads.filter(blocker=Blocker.STUDY_PAUSED)
        new_blocker = ""
    ids = list(targets.values_list("id", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Lead.objects.filter(id__in=ids).update(
        blocker=new_blocker, blocker_text="", version=F("version") + 1
    )
    Activity.objects.bulk_create(
        Activity(
            organization_id=study_site.organization_id,
            lead_id=lead_id,
            kind=ActivityKind.BLOCKER,
            actor=actor.user,
            at=now,
            data={"blocker": new_blocker, "version": version},
        )
        for lead_id, version in Lead.objects.filter(id__in=ids).values_list("id", "version")
    )
    audit_record(
        action="study_site.leads_held" if holding else "study_site.leads_released",
        actor=actor.user,
        organization_id=study_site.organization_id,
        obj=study_site,
        changes={
            "blocker": {"old": None, "new": new_blocker},
            "leads": {"old": 0, "new": len(ids)},
        },
        request=actor.request,
    )
    return len(ids)


# Saved views and policies ------------------------------------------------------------------


@transaction.atomic
def saved_view_create(
    *, membership: Membership, name: str, query: str, shared: bool, actor: Actor
) -> SavedView:
    view = SavedView.objects.create(
        organization_id=membership.organization_id,
        owner=membership,
        name=name,
        query=query,
        shared=shared,
    )
    audit_record(
        action="saved_view.created",
        actor=actor.user,
        organization_id=membership.organization_id,
        obj=view,
        changes={"name": {"old": None, "new": name}, "shared": {"old": None, "new": shared}},
        request=actor.request,
    )
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor: Actor) -> None:
    audit_record(
        action="saved_view.deleted",
        actor=actor.user,
        organization_id=view.organization_id,
        obj=view,
        request=actor.request,
    )
    view.delete()


POLICY_FIELDS = (
    "cadence_hours",
    "final_wait_hours",
    "sla_first_response_hours",
    "sla_prescreen_review_hours",
    "sla_records_request_hours",
    "sla_scheduling_hours",
    "stale_after_days",
)


@transaction.atomic
def policy_update(*, policy: Policy, form_data: dict[str, Any], actor: Actor) -> Policy:
    """Save a StudySite's cadence and SLA targets. New targets apply from the next movement."""
    before = {name: getattr(Policy.objects.get(pk=policy.pk), name) for name in POLICY_FIELDS}
    policy.cadence_hours = form_data["cadence"]
    for name in POLICY_FIELDS[1:]:
        setattr(policy, name, form_data[name])
    policy.save()
    audit_record(
        action="policy.updated",
        actor=actor.user,
        organization_id=policy.study_site.organization_id,
        object_type="studysite",
        object_id=str(policy.study_site.code),
        changes=changed_fields(
            old=before, new={name: getattr(policy, name) for name in POLICY_FIELDS}
        ),
        request=actor.request,
    )
    return policy


# Bulk --------------------------------------------------------------------------------------


def leads_bulk(leads: Sequence[Lead], apply: Any) -> tuple[int, list[tuple[Lead, str]]]:
    """Apply one service to several leads; each succeeds or fails on its own."""
    done, failed = 0, []
    for lead in leads:
        try:
            apply(lead)
        except ValidationError as error:
            failed.append((lead, " ".join(error.messages)))
        else:
            done += 1
    return done, failed
