"""Demo leads: a few thousand people in every status with believable timelines.

Written set-based (bulk inserts) so `make demo` starts quickly; the rows satisfy the same
invariant and check constraints as leads made through the services.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leads.models import (
    DEFAULT_ACTION,
    OPEN_STATUSES,
    ActionKind,
    Activity,
    ActivityKind,
    Blocker,
    Channel,
    CloseReason,
    Direction,
    Lead,
    Outcome,
    Person,
    Source,
    Status,
)
from leads.services.policies import policy_for, refresh_attention, sla_deadline
from trialsnest.audit.services import audit_record
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Organization, Role
from trialsnest.tenancy.selectors import members_who_see

FIRST = [
    "Maria",
    "Jose",
    "Luis",
    "Ana",
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Nancy",
    "Kevin",
    "Lisa",
    "Angela",
    "Brian",
    "Sandra",
    "Wei",
    "Mei",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Aisha",
    "Tremaine",
    "Keisha",
    "Dmitri",
    "Olga",
]
LAST = [
    "Garcia",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Chen",
    "Patel",
    "Kim",
]
AREA_CODES = ["303", "305", "713", "786", "720", "832", "206", "312"]
# (status, weight)
STATUS_MIX: list[tuple[str, int]] = [
    (Status.NEW, 12),
    (Status.CONTACTING, 20),
    (Status.PRESCREENING, 9),
    (Status.NEEDS_REVIEW, 6),
    (Status.RECORDS_PENDING, 12),
    (Status.RECORDS_READY, 6),
    (Status.VISIT_SCHEDULED, 7),
    (Status.HANDED_OFF, 8),
    (Status.CLOSED, 20),
]
SOURCES: list[tuple[str, int]] = [
    (Source.WEB_FORM, 45),
    (Source.REFERRAL_PARTNER, 15),
    (Source.VENDOR_LIST, 20),
    (Source.PHYSICIAN_REFERRAL, 12),
    (Source.EHR_QUERY, 5),
    (Source.WALK_IN, 3),
]
NOTES = [
    "Prefers calls after work.",
    "Asked for information about travel reimbursement.",
    "Daughter helps with scheduling; call her number if no answer.",
    "Interested, wants to talk it over with family first.",
    "Has an upcoming appointment with their oncologist next week.",
    "Spanish-speaking; a bilingual coordinator called.",
]


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return str(rng.choices(values, weights)[0])


class _Timeline:
    def __init__(self, lead: Lead, actor_id: int | None) -> None:
        self.lead, self.actor_id, self.items = lead, actor_id, []  # type: ignore[var-annotated]
        self.version = 1

    def add(self, kind: str, at: datetime, **fields: object) -> None:
        data = dict(fields.pop("data", {}))  # type: ignore[call-overload]
        data["version"] = self.version
        self.items.append(
            Activity(
                organization_id=self.lead.organization_id,
                lead=self.lead,
                kind=kind,
                at=at,
                actor_id=self.actor_id,
                data=data,
                **fields,
            )
        )
        self.version += 1

    def status(self, to: str, at: datetime, **data: object) -> None:
        self.add(ActivityKind.STATUS_CHANGE, at, data={"from": self.lead.status, "to": to, **data})
        self.lead.status, self.lead.status_changed_at, self.lead.last_movement_at = to, at, at

    def attempt(self, at: datetime, outcome: str) -> None:
        self.add(
            ActivityKind.CONTACT_ATTEMPT,
            at,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=outcome,
        )
        self.lead.last_movement_at = at


def _owners(organization: Organization) -> dict[int, list[Membership]]:
    result = {}
    for study_site in StudySite.objects.filter(organization=organization):
        candidates = list(members_who_see(study_site).order_by("id"))
        coordinators = [m for m in candidates if m.role == Role.COORDINATOR]
        result[study_site.pk] = coordinators or [
            m for m in candidates if m.role != Role.COORDINATOR
        ]
    return result


@transaction.atomic
def seed_leads(organization: Organization, count: int, *, seed: int = 7) -> int:
    """Create `count` demo leads spread over the organization's StudySites."""
    rng = random.Random(f"{seed}:{organization.pk}")
    now = timezone.now()
    study_sites = list(StudySite.objects.filter(organization=organization).select_related("site"))
    owners = _owners(organization)
    people: list[Person] = []
    leads: list[Lead] = []
    activities: list[Activity] = []
    for i in range(count):
        study_site = rng.choice(study_sites)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        person = Person(
            organization=organization,
            first_name=first,
            last_name=last,
            phone=f"+1{rng.choice(AREA_CODES)}555{rng.randint(100, 199):04d}",
            email=f"{first}.{last}{i}@example.com".lower(),
            postal_code=study_site.site.postal_code,
            preferred_channel=rng.choice(
                [Channel.PHONE, Channel.PHONE, Channel.SMS, Channel.EMAIL]
            ),
            preferred_language=rng.choice(["en", "en", "en", "es"]),
            consent_phone=True,
            consent_sms=rng.random() < 0.6,
            consent_email=True,
            consent_text_version="2026-01",
        )
        people.append(person)
        owner = rng.choice(owners[study_site.pk])
        leads.append(_lead(rng, now, person, study_site, owner, activities))
    Person.objects.bulk_create(people)
    for lead in leads:
        lead.person_id = lead.person.pk
    Lead.objects.bulk_create(leads)
    for activity in activities:
        activity.lead_id = activity.lead.pk
    Activity.objects.bulk_create(activities, batch_size=2000)
    audit_record(
        action="seed_demo.leads_created",
        organization=organization,
        changes={"leads": {"old": 0, "new": count}},
    )
    return count


MOMENTS = (
    "received_at",
    "last_movement_at",
    "status_changed_at",
    "first_contact_at",
    "prescreened_at",
    "records_ready_at",
    "scheduled_at",
)


def _shift(lead: Lead, items: list[Activity], last_movement: datetime) -> None:
    delta = last_movement - lead.last_movement_at
    if delta <= timedelta(0):
        return
    for name in MOMENTS:
        if (value := getattr(lead, name)) is not None:
            setattr(lead, name, value + delta)
    for item in items:
        item.at += delta


def _lead(
    rng: random.Random,
    now: datetime,
    person: Person,
    study_site: StudySite,
    owner: Membership,
    activities: list[Activity],
) -> Lead:
    target = _pick(rng, STATUS_MIX)
    age_days = rng.expovariate(1 / 9) if target == Status.NEW else rng.uniform(1, 75)
    if target == Status.NEW:
        age_days = min(age_days, 4)
    received = now - timedelta(days=age_days, minutes=rng.randint(0, 600))
    lead = Lead(
        organization_id=study_site.organization_id,
        person=person,
        study_site=study_site,
        source=_pick(rng, SOURCES),
        campaign=rng.choice(["", "", "spring-radio", "facebook-2026q3", "clinic-flyer-v2"]),
        owner=owner,
        status=Status.NEW,
        received_at=received,
        last_movement_at=received,
        status_changed_at=received,
    )
    timeline = _Timeline(lead, owner.user_id)
    timeline.add(ActivityKind.RECEIVED, received, data={"source": lead.source})
    timeline.add(ActivityKind.ASSIGNMENT, received, data={"owner": str(owner.code)})
    clock = received
    order: list[str] = [s for s, _ in STATUS_MIX if s not in (Status.HANDED_OFF, Status.CLOSED)]
    path = order[: order.index(target) + 1] if target in order else order[: rng.randint(1, 7)]
    span = max((now - received).total_seconds(), 3600) / (len(path) + 2)

    def later(fraction: float = 1.0) -> datetime:
        nonlocal clock
        clock = min(clock + timedelta(seconds=span * fraction * rng.uniform(0.3, 1.0)), now)
        return clock

    for step in path[1:]:
        if step == Status.CONTACTING:
            for _ in range(rng.randint(0, 2)):
                timeline.attempt(later(0.3), rng.choice([Outcome.NO_ANSWER, Outcome.VOICEMAIL]))
            at = later(0.3)
            timeline.attempt(at, Outcome.REACHED)
            lead.first_contact_at = at
        if step == Status.PRESCREENING and lead.status == Status.NEW:
            timeline.attempt(later(0.5), Outcome.REACHED)
            lead.first_contact_at = clock
        timeline.status(step, later())
        if step == Status.PRESCREENING:
            lead.prescreened_at = clock
        if step == Status.RECORDS_READY:
            lead.records_ready_at = clock
        if step == Status.VISIT_SCHEDULED:
            lead.scheduled_at = clock
        if rng.random() < 0.25:
            timeline.add(ActivityKind.NOTE, later(0.2), text=rng.choice(NOTES))
    if target == Status.HANDED_OFF:
        if lead.status != Status.VISIT_SCHEDULED:
            for step in order[order.index(lead.status) + 1 :]:
                timeline.status(step, later(0.3))
        lead.scheduled_at = lead.scheduled_at or clock
        timeline.status(Status.HANDED_OFF, later())
        lead.handed_off_at = clock
    elif target == Status.CLOSED:
        reason = rng.choice(CloseReason.values[:-1])
        if reason == CloseReason.UNREACHABLE:
            for _ in range(4):
                timeline.attempt(later(0.4), Outcome.NO_ANSWER)
        timeline.status(Status.CLOSED, later(), close_reason=reason)
        lead.close_reason, lead.closed_at = reason, clock
    elif target == Status.NEW and rng.random() < 0.5:
        # Some new leads already had an unanswered call.
        timeline.attempt(later(0.5), Outcome.NO_ANSWER)
        lead.attempts = 1
        lead.blocker = Blocker.NO_RESPONSE
    lead.version = timeline.version
    if lead.status in OPEN_STATUSES and rng.random() < 0.9:
        # Most open leads moved in the last few days; the rest are genuinely stale.
        _shift(lead, timeline.items, now - timedelta(hours=rng.uniform(1, 120)))
    policy = policy_for(study_site)
    if lead.status in OPEN_STATUSES:
        lead.next_action = DEFAULT_ACTION[lead.status]
        if lead.status == Status.CONTACTING and rng.random() < 0.3:
            lead.next_action, lead.blocker = ActionKind.CALLBACK, Blocker.AWAITING_CALLBACK
        if lead.status == Status.RECORDS_PENDING and rng.random() < 0.6:
            lead.next_action, lead.blocker = ActionKind.CHASE_RECORDS, Blocker.MISSING_RECORDS
        # A Monday morning: much is due now or overdue, the rest later this week.
        lead.next_action_due_at = now + timedelta(
            hours=rng.choice([-72, -30, -5, -1, 2, 6, 26, 50])
        )
        lead.sla_due_at = sla_deadline(lead, policy, lead.status_changed_at)
    refresh_attention(lead, policy)
    activities.extend(timeline.items)
    return lead
