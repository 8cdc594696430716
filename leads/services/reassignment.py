"""Many leads given new owners at once: all open leads of someone who leaves ("reassign all",
confirmed on the Team page) and the queue's bulk assign. Set-based: one UPDATE writes the
owners, the record of the change and the timeline; the audit rows go in by COPY, one batch
per pair of owners. A site lead can undo a change for BulkChange.UNDO_PERIOD (bulk_undo.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from leads.models import OPEN_STATUSES, ActivityKind, BulkChange, Lead
from leads.services.assignment import Handout, mark_assigned, owners_for
from leads.services.notices import notify_reassigned_many
from trialsnest.audit.services import Actor, audit_record, audit_record_many
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership
from trialsnest.tenancy.selectors import visible_study_site_ids, visible_study_sites


@dataclass(frozen=True)
class Recipient:
    member: Membership
    leads: int  # what the change gives them
    open_leads: int  # what they hold now


@dataclass(frozen=True)
class ReassignPlan:
    """Who gets which of a member's open leads: what the confirmation shows and what
    leads_reassign_all writes."""

    from_owner: Membership
    to_owner: Membership | None
    lead_ids: list[int]
    owner_ids: list[int]
    recipients: list[Recipient]

    @property
    def count(self) -> int:
        return len(self.lead_ids)

    @property
    def fingerprint(self) -> str:
        """What the site lead confirmed: the number of leads and who gets how many."""
        shares = ",".join(f"{r.member.code}={r.leads}" for r in self.recipients)
        return f"{self.count}:{shares}"


class PlanChanged(Exception):
    """The member's open leads or the team's loads moved since the site lead confirmed."""

    def __init__(self, plan: ReassignPlan) -> None:
        super().__init__("The open leads changed since you looked: check the new figures.")
        self.plan = plan


@transaction.atomic
def reassign_plan(*, from_owner: Membership, to_owner: Membership | None = None) -> ReassignPlan:
    """Every open lead of `from_owner` for `to_owner`, or spread by the fair, capacity-aware
    rule of owners_for: one call per StudySite, each counting what the earlier ones handed out.
    Writes nothing (it locks the candidates' memberships for the transaction, as intake does)."""
    rows = list(
        Lead.objects.filter(owner=from_owner, status__in=OPEN_STATUSES)
        .order_by("id")
        .values_list("id", "study_site_id")
    )
    lead_ids = [lead_id for lead_id, _ in rows]
    by_study_site: dict[int, list[int]] = defaultdict(list)
    for lead_id, study_site_id in rows:
        by_study_site[study_site_id].append(lead_id)
    if to_owner is not None:
        _check_target(from_owner, to_owner, set(by_study_site))
        owner_of = dict.fromkeys(lead_ids, to_owner.pk)
    else:
        owner_of = {}
        study_sites = StudySite.objects.select_related("study", "site").in_bulk(by_study_site)
        handout = Handout()
        for study_site_id, ids in by_study_site.items():  # in order of each one's first lead
            study_site = study_sites[study_site_id]
            try:
                owners = owners_for(study_site, len(ids), exclude=from_owner, handout=handout)
            except ValidationError:
                raise ValidationError(
                    f"Nobody else can own the leads of {_name(study_site)}: give someone access "
                    "to it first."
                ) from None
            owner_of.update(zip(ids, (owner.pk for owner in owners), strict=True))
    owner_ids = [owner_of[lead_id] for lead_id in lead_ids]
    return ReassignPlan(
        from_owner=from_owner,
        to_owner=to_owner,
        lead_ids=lead_ids,
        owner_ids=owner_ids,
        recipients=_recipients(owner_ids),
    )


def _check_target(from_owner: Membership, to_owner: Membership, study_site_ids: set[int]) -> None:
    if to_owner.pk == from_owner.pk:
        raise ValidationError("Pick someone else to give the leads to.")
    if to_owner.organization_id != from_owner.organization_id or not to_owner.is_active:
        raise ValidationError("Pick an active member of this organization.")
    seen = set(
        visible_study_sites(to_owner).filter(id__in=study_site_ids).values_list("id", flat=True)
    )
    if unseen := study_site_ids - seen:
        names = ", ".join(
            _name(ss)
            for ss in StudySite.objects.filter(id__in=unseen).select_related("study", "site")
        )
        raise ValidationError(
            f"{to_owner.user} cannot see the leads of {names}: pick someone who can, or spread "
            "them fairly."
        )


def _name(study_site: StudySite) -> str:
    return f"{study_site.study.brief_title} at {study_site.site.name}"


def _recipients(owner_ids: Sequence[int]) -> list[Recipient]:
    shares = Counter(owner_ids)
    members = Membership.objects.select_related("user").in_bulk(shares)
    holding = dict(
        Lead.objects.filter(owner__in=list(shares), status__in=OPEN_STATUSES)
        .values_list("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return [
        Recipient(member=members[pk], leads=n, open_leads=holding.get(pk, 0))
        for pk, n in sorted(shares.items(), key=lambda item: (-item[1], item[0]))
    ]


@transaction.atomic
def leads_reassign_all(
    *,
    from_owner: Membership,
    actor: Actor,
    to_owner: Membership | None = None,
    expected: str | None = None,
) -> BulkChange:
    """Hand every open lead of someone who leaves to `to_owner`, or by the assignment rule.

    `expected` is the fingerprint of the plan the site lead confirmed: when the figures moved
    since, nothing is written and PlanChanged carries the new plan to confirm."""
    # One reassignment of a member at a time: a second waits, then finds nothing left to move.
    Membership.objects.select_for_update(of=("self",)).filter(pk=from_owner.pk).first()
    plan = reassign_plan(from_owner=from_owner, to_owner=to_owner)
    if expected is not None and plan.fingerprint != expected:
        raise PlanChanged(plan)
    if not plan.lead_ids:
        raise ValidationError(f"{from_owner.user} has no open leads.")
    change, _ = owners_change(
        kind=BulkChange.Kind.REASSIGN_ALL,
        organization_id=from_owner.organization_id,
        lead_ids=plan.lead_ids,
        owner_ids=plan.owner_ids,
        actor=actor,
        from_owner=from_owner,
        to_owner=to_owner,
    )
    return change


# Writing and undoing a change of owners ----------------------------------------------------

_OPEN = [str(status) for status in OPEN_STATUSES]

# The timeline entry of each moved lead, as activity_add writes one (the lead's new version).
_TIMELINE = """
    timeline AS (
        INSERT INTO leads_activity
            (organization_id, lead_id, kind, at, actor_id, channel, direction, outcome, text, data)
        SELECT moved.organization_id, moved.id, %(kind)s, %(now)s, %(actor)s, '', '', '', '',
               jsonb_build_object('owner', m.code::text, 'version', moved.version,
                                  'bulk_change', %(change_code)s::text)
        FROM moved JOIN tenancy_membership m ON m.id = moved.owner_id
    )"""

_MOVE = f"""
    WITH plan AS (
        SELECT * FROM unnest(%(leads)s::bigint[], %(owners)s::bigint[]) AS p(lead_id, owner_id)
    ),
    locked AS (
        -- Rows are locked in id order, so two bulk writes never deadlock on each other.
        SELECT l.id, l.owner_id AS previous_owner_id, plan.owner_id
        FROM leads_lead l JOIN plan ON plan.lead_id = l.id
        WHERE l.status = ANY(%(open)s) AND l.owner_id IS DISTINCT FROM plan.owner_id
          AND (%(from_owner)s::bigint IS NULL OR l.owner_id = %(from_owner)s::bigint)
        ORDER BY l.id
        FOR UPDATE OF l
    ),
    moved AS (
        UPDATE leads_lead l SET owner_id = locked.owner_id, version = l.version + 1
        FROM locked WHERE l.id = locked.id
        RETURNING l.id, l.code, l.organization_id, locked.previous_owner_id, l.owner_id, l.version
    ),
    kept AS (
        INSERT INTO leads_bulkchangelead (change_id, lead_id, previous_owner_id, owner_id, version)
        SELECT %(change)s, id, previous_owner_id, owner_id, version FROM moved
    ),
    {_TIMELINE}
    SELECT code::text, previous_owner_id, owner_id FROM moved
"""  # noqa: S608  (constant SQL: the timeline part is a constant too)

_RESTORE = f"""
    WITH locked AS (
        SELECT l.id, i.owner_id AS previous_owner_id, i.previous_owner_id AS owner_id
        FROM leads_bulkchangelead i
        JOIN leads_lead l ON l.id = i.lead_id
        JOIN tenancy_membership back ON back.id = i.previous_owner_id
        WHERE i.change_id = %(change)s AND l.version = i.version AND l.owner_id = i.owner_id
          AND l.status = ANY(%(open)s) AND back.is_active
          AND (i.previous_owner_id, l.study_site_id) IN (
              SELECT * FROM unnest(%(back_owners)s::bigint[], %(back_study_sites)s::bigint[])
          )
        ORDER BY l.id
        FOR UPDATE OF l
    ),
    moved AS (
        UPDATE leads_lead l SET owner_id = locked.owner_id, version = l.version + 1
        FROM locked WHERE l.id = locked.id
        RETURNING l.id, l.code, l.organization_id, locked.previous_owner_id, l.owner_id, l.version
    ),
    {_TIMELINE}
    SELECT code::text, previous_owner_id, owner_id FROM moved
"""  # noqa: S608  (constant SQL: the timeline part is a constant too)

# The leads of a change an undo would give back (not changed since), by previous owner and
# StudySite: whether that owner may still hold them is decided per pair.
_RESTORABLE = """
    SELECT i.previous_owner_id, l.study_site_id, back.is_active, count(*)
    FROM leads_bulkchangelead i
    JOIN leads_lead l ON l.id = i.lead_id
    JOIN tenancy_membership back ON back.id = i.previous_owner_id
    WHERE i.change_id = %(change)s AND l.version = i.version AND l.owner_id = i.owner_id
      AND l.status = ANY(%(open)s)
    GROUP BY 1, 2, 3
"""


def owners_change(
    *,
    kind: str,
    organization_id: int,
    lead_ids: Sequence[int],
    owner_ids: Sequence[int],
    actor: Actor,
    from_owner: Membership | None = None,
    to_owner: Membership | None = None,
) -> tuple[BulkChange, set[str]]:
    """Give each open lead its new owner in one statement, recorded as an undoable change;
    returns it with the codes of the leads it moved.

    Leads closed or already with that owner by the time their row is locked are left as they
    are (and out of the record); with `from_owner`, so are leads someone else owns by then.
    The caller checks that each owner may see their leads. Call inside a transaction."""
    change = BulkChange.objects.create(
        organization_id=organization_id,
        kind=kind,
        from_owner=from_owner,
        to_owner=to_owner,
        actor=actor.user,
    )
    now = timezone.now()
    moved = _run(
        _MOVE,
        leads=list(lead_ids),
        owners=list(owner_ids),
        open=_OPEN,
        from_owner=from_owner.pk if from_owner else None,
        change=change.pk,
        change_code=str(change.code),
        kind=ActivityKind.ASSIGNMENT,
        now=now,
        actor=actor.user.pk if actor.user else None,
    )
    change.lead_count = len(moved)
    change.save(update_fields=["lead_count"])
    _audit_moves(moved, organization_id, actor, reason=f"{change.get_kind_display()} {change.code}")
    mark_assigned({new for _, _, new in moved}, now)
    notify_reassigned_many(moved, organization_id, actor, change.code)
    audit_record(
        action="bulk_change.created",
        actor=actor.user,
        organization_id=organization_id,
        obj=change,
        changes={
            "kind": {"old": None, "new": kind},
            "leads": {"old": 0, "new": len(moved)},
            "from_owner": {"old": None, "new": str(from_owner.code) if from_owner else None},
            "to_owner": {"old": None, "new": str(to_owner.code) if to_owner else None},
        },
        request=actor.request,
    )
    return change, {code for code, _, _ in moved}


@dataclass(frozen=True)
class Undone:
    restored: int
    changed_since: int
    owner_left: int  # their previous owner is no longer an active member
    no_access: int = 0  # their previous owner may no longer see the lead's StudySite


def owners_restore(*, change: BulkChange, actor: Actor, now: datetime) -> Undone:
    """Give every lead of the change its previous owner back, unless the lead was changed since
    (its version moved on: it keeps what happened to it), that owner left, or may no longer see
    the lead's StudySite (it stays with its current owner). Audited; called by
    bulk_change_undo (leads/services/bulk_undo.py), which checks the period."""
    params: dict[str, Any] = {"change": change.pk, "open": _OPEN}
    with connection.cursor() as cursor:
        cursor.execute(_RESTORABLE, params)
        pairs = cursor.fetchall()
    # The previous owners are bounded by the team: one look-up of what each may see.
    members = Membership.objects.in_bulk({owner for owner, _, active, _ in pairs if active})
    visible = {pk: visible_study_site_ids(member) for pk, member in members.items()}
    owner_left = no_access = 0
    back_owners: list[int] = []
    back_study_sites: list[int] = []
    for owner_id, study_site_id, active, n in pairs:
        if not active:
            owner_left += n
        elif (ids := visible[owner_id]) is not None and study_site_id not in ids:
            no_access += n
        else:
            back_owners.append(owner_id)
            back_study_sites.append(study_site_id)
    params.update(back_owners=back_owners, back_study_sites=back_study_sites)
    moved = _run(
        _RESTORE,
        **params,
        change_code=str(change.code),
        kind=ActivityKind.ASSIGNMENT,
        now=now,
        actor=actor.user.pk if actor.user else None,
    )
    _audit_moves(moved, change.organization_id, actor, reason=f"Undo of {change.code}")
    notify_reassigned_many(moved, change.organization_id, actor, change.code, undo=True)
    return Undone(
        restored=len(moved),
        changed_since=change.lead_count - len(moved) - owner_left - no_access,
        owner_left=owner_left,
        no_access=no_access,
    )


def _run(sql: str, **params: Any) -> list[tuple[str, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(str(code), int(old), int(new)) for code, old, new in cursor.fetchall()]


def _audit_moves(
    moved: Sequence[tuple[str, int, int]], organization_id: int, actor: Actor, reason: str
) -> None:
    """One "lead.assigned" row per lead, as lead_assign writes it, in a batch per pair of
    owners (their number is bounded by the team, not by the leads)."""
    pairs: dict[tuple[int, int], list[str]] = defaultdict(list)
    for code, old, new in moved:
        pairs[old, new].append(code)
    for (old, new), codes in pairs.items():
        audit_record_many(
            action="lead.assigned",
            actor_id=actor.user.pk if actor.user else None,
            organization_id=organization_id,
            object_type="lead",
            object_ids=codes,
            changes={"owner_id": {"old": old, "new": new}},
            reason=reason,
        )
