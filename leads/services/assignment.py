"""Who owns a lead: the fair, capacity-aware choice of owners, and reassigning one lead.

Many leads at once (reassign all, the queue's bulk assign) are leads/services/reassignment.py."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from leads.models import OPEN_STATUSES, ActivityKind, Lead
from leads.services.locking import lead_lock, lead_save, lead_snapshot
from leads.services.notices import notify_reassigned
from leads.services.timeline import activity_add
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import members_who_see


@dataclass
class Handout:
    """Leads one change hands out over several owners_for calls (one per StudySite of a
    reassignment), not yet written: each call counts them in the loads, and the members given
    leads in an earlier call sort after everyone of the same load, in the order handed out, just
    as if every lead had been written before the next was chosen."""

    counts: Counter[int] = field(default_factory=Counter)
    last_turn: dict[int, int] = field(default_factory=dict)
    turns: int = 0


def owners_for(
    study_site: StudySite,
    count: int,
    *,
    exclude: Membership | None = None,
    handout: Handout | None = None,
) -> list[Membership]:
    """Owners for `count` new leads by the fair, capacity-aware rule: the available coordinator
    with the fewest open leads (ties: longest since their last assignment), counting each lead
    as it is handed out and skipping anyone at capacity; else a site lead, else an org admin.

    Locks the candidates' memberships, so concurrent intake is serialized per organization and
    every count it compares is current. Call inside a transaction.
    """
    members = members_who_see(study_site).select_for_update(of=("self",)).order_by("id")
    if exclude is not None:
        members = members.exclude(pk=exclude.pk)
    candidates = list(members)
    loads = Counter(
        dict(
            Lead.objects.filter(owner__in=candidates, status__in=OPEN_STATUSES)
            .values_list("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        )
    )
    handout = handout or Handout()
    loads.update(handout.counts)
    epoch, latest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)

    def entry(m: Membership) -> tuple[int, datetime, int, int, Membership]:
        if m.pk in handout.last_turn:
            return (loads[m.pk], latest, handout.last_turn[m.pk], m.pk, m)
        return (loads[m.pk], m.last_assigned_at or epoch, 0, m.pk, m)

    def queue(role: Role) -> list[tuple[int, datetime, int, int, Membership]]:
        heap = [entry(m) for m in candidates if m.role == role and not _full(m, loads[m.pk])]
        heapq.heapify(heap)
        return heap

    tiers = [queue(Role.COORDINATOR), queue(Role.SITE_LEAD), queue(Role.ORG_ADMIN)]
    owners: list[Membership] = []
    for _ in range(count):
        tier = next((heap for heap in tiers if heap), None)
        if tier is None:
            raise ValidationError("Nobody in the organization can own leads of this study.")
        load, _, _, pk, member = heapq.heappop(tier)
        owners.append(member)
        handout.turns += 1
        handout.counts[pk] += 1
        handout.last_turn[pk] = handout.turns
        if not _full(member, load + 1):
            # Just assigned: after everyone with the same load, in the order handed out.
            heapq.heappush(tier, (load + 1, latest, handout.turns, pk, member))
    return owners


def _full(member: Membership, load: int) -> bool:
    """Coordinators stop at their capacity; site leads and admins are the fallback."""
    return (
        member.role == Role.COORDINATOR and member.capacity is not None and load >= member.capacity
    )


def choose_owner(study_site: StudySite, *, exclude: Membership | None = None) -> Membership:
    """The owner of one new lead (see owners_for)."""
    return owners_for(study_site, 1, exclude=exclude)[0]


def mark_assigned(owners: Iterable[Membership | int], now: datetime) -> None:
    """Remember when each was last given a lead: the tie-break of the fair rule."""
    ids = {owner if isinstance(owner, int) else owner.pk for owner in owners}
    Membership.objects.filter(pk__in=ids).update(last_assigned_at=now)


def check_owner(lead: Lead, owner: Membership) -> None:
    if owner.organization_id != lead.organization_id or not owner.is_active:
        raise ValidationError({"owner": "Pick an active member of this organization."})
    if not members_who_see(lead.study_site).filter(pk=owner.pk).exists():
        raise ValidationError(
            {"owner": f"{owner.user} cannot see this study's leads; pick someone who can."}
        )


@transaction.atomic
def lead_assign(*, lead: Lead, owner: Membership, actor: Actor, version: int | None = None) -> Lead:
    lead = lead_lock(lead, version)
    check_owner(lead, owner)
    if not lead.is_open:
        raise ValidationError("Only open leads can be reassigned.")
    if owner.pk == lead.owner_id:
        return lead
    before, now = lead_snapshot(lead), timezone.now()
    lead.owner = owner
    lead_save(lead, before, actor, "lead.assigned")
    mark_assigned([owner], now)
    activity_add(lead, ActivityKind.ASSIGNMENT, actor, now, data={"owner": str(owner.code)})
    notify_reassigned(lead, actor)
    return lead
