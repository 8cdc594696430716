"""Realistic, skewed data of any size, written with PostgreSQL COPY.

Organizations own sites whose sizes follow a power law (the largest site holds about 7 % of
the leads, the median far fewer). Every lead satisfies the lead invariant; timelines average
five activities, and one lead in a thousand has exactly fifty (the lead-page benchmark). About a
third of the leads have a prescreen (trialsnest/bench/prescreen.py).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection, transaction
from django.utils import timezone

from leads.models import OPEN_STATUSES, ActionKind, Blocker, Source, Status
from leads.services.timeline import ACTIVITY_COLUMNS
from trialsnest.bench.prescreen import generate_prescreens
from trialsnest.bench.records import generate_records
from trialsnest.bench.rows import MADE_COLUMNS, Made
from trialsnest.lib.db import copy_rows

BENCH_PASSWORD = "bench-password"  # noqa: S105  (synthetic benchmark users only)
LARGEST_SITE_SHARE = 0.07
STATUS_MIX = [
    ("new", 8),
    ("contacting", 14),
    ("prescreening", 7),
    ("needs_review", 4),
    ("records_pending", 9),
    ("records_ready", 4),
    ("visit_scheduled", 4),
    ("handed_off", 15),
    ("closed", 35),
]
NEXT_ACTION: dict[str, str] = {
    Status.NEW: ActionKind.FIRST_CONTACT,
    Status.CONTACTING: ActionKind.FOLLOW_UP,
    Status.PRESCREENING: ActionKind.CONDUCT_PRESCREEN,
    Status.NEEDS_REVIEW: ActionKind.REVIEW_PRESCREEN,
    Status.RECORDS_PENDING: ActionKind.CHASE_RECORDS,
    Status.RECORDS_READY: ActionKind.SCHEDULE_VISIT,
    Status.VISIT_SCHEDULED: ActionKind.CONFIRM_VISIT,
}
CLOSE_REASONS = ["not_interested", "unreachable", "not_a_fit", "duplicate", "withdrawn"]
FIRST = [
    "Maria",
    "Jose",
    "Ana",
    "James",
    "Mary",
    "Robert",
    "Linda",
    "David",
    "Wei",
    "Priya",
    "Omar",
    "Aisha",
    "Carlos",
    "Susan",
]
LAST = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Patel",
    "Johnson",
    "Lee",
    "Brown",
    "Lopez",
    "Chen",
    "Kim",
    "Davis",
    "Martin",
    "Scott",
]
SOURCES = [s.value for s in Source]


@dataclass
class Plan:
    leads: int
    seed: int = 1
    organizations: int = 0
    sites: int = 0
    site_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.organizations = self.organizations or max(2, self.leads // 40_000)
        self.sites = self.sites or max(4, self.leads // 6_000)
        self.site_weights = power_law(self.sites, LARGEST_SITE_SHARE)


def power_law(n: int, top_share: float) -> list[float]:
    """Weights 1/rank^s, with s chosen so the first holds `top_share` of the total."""
    low, high = 0.0, 4.0
    for _ in range(60):
        s = (low + high) / 2
        weights = [1 / (rank**s) for rank in range(1, n + 1)]
        share = weights[0] / sum(weights)
        low, high = (s, high) if share < top_share else (low, s)
    total = sum(weights)
    return [w / total for w in weights]


class Ids:
    """Explicit ids, continuing each table's sequence."""

    def __init__(self, table: str) -> None:
        self.table = table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
            self.next = int(cursor.fetchone()[0]) + 1

    def take(self) -> int:
        value, self.next = self.next, self.next + 1
        return value

    def sync(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), greatest(%s, 1))",
                [self.table, self.next - 1],
            )


def generate(plan: Plan, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Fill the database; returns what was made (ids of the sites benchmarks need)."""
    rng = random.Random(plan.seed)
    now = timezone.now()
    with transaction.atomic():
        made = _tenancy(plan, rng, now, say)
        leads = _leads(plan, rng, now, made, say)
        generate_prescreens(rng, made, leads, say)
        del leads
        for table in ("leads_person", "leads_lead"):
            Ids(table).sync()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # sets the visibility map for index-only scans
    return made


def _tenancy(
    plan: Plan, rng: random.Random, now: datetime, say: Callable[[str], None]
) -> dict[str, Any]:
    from trialsnest.accounts.models import User
    from trialsnest.studies.models import Sponsor, Study, StudySite
    from trialsnest.tenancy.models import Membership, Organization, Role, Site

    tag = uuid.uuid4().hex[:6]
    # One hash for every synthetic user, made with a hasher every settings file accepts.
    hasher = PBKDF2PasswordHasher()
    password = hasher.encode(BENCH_PASSWORD, hasher.salt())
    sponsor = Sponsor.objects.create(name=f"Bench sponsor {tag}")
    studies = Study.objects.bulk_create(
        Study(brief_title=f"Bench study {i} {tag}", sponsor=sponsor, registry_status="RECRUITING")
        for i in range(40)
    )
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Bench org {i} {tag}") for i in range(plan.organizations)
    )
    zones = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
    sites = Site.objects.bulk_create(
        Site(
            organization=orgs[i % len(orgs)],
            name=f"Bench site {i} {tag}",
            timezone=zones[i % len(zones)],
            opens_at=time(8, 30),
            closes_at=time(17, 0),
            postal_code=f"{10000 + i}",
        )
        for i in range(plan.sites)
    )
    study_sites = StudySite.objects.bulk_create(
        StudySite(organization=site.organization, site=site, study=studies[(i * 3 + k) % 40])
        for i, site in enumerate(sites)
        for k in range(3)
    )
    users: list[User] = []
    memberships: list[Membership] = []
    coordinators: dict[int, list[Membership]] = {}
    for i, site in enumerate(sites):
        expected = plan.leads * plan.site_weights[i]
        for k in range(min(25, max(2, int(expected // 4000)))):
            user = User(email=f"c{k}.s{i}.{tag}@bench.example", password=password)
            users.append(user)
            member = Membership(user=user, organization=site.organization, role=Role.COORDINATOR)
            memberships.append(member)
            coordinators.setdefault(site.pk, []).append(member)
    leads_by_org: dict[int, Membership] = {}
    for j, org in enumerate(orgs):
        for role in (Role.SITE_LEAD, Role.ORG_ADMIN):
            user = User(email=f"{role}.o{j}.{tag}@bench.example", password=password)
            users.append(user)
            member = Membership(user=user, organization=org, role=role)
            memberships.append(member)
            if role == Role.SITE_LEAD:
                leads_by_org[org.pk] = member
    User.objects.bulk_create(users)
    for member in memberships:
        member.user_id = member.user.pk
    Membership.objects.bulk_create(memberships)
    Through = Membership.restricted_sites.through
    Through.objects.bulk_create(
        Through(membership_id=m.pk, site_id=site_pk)
        for site_pk, members in coordinators.items()
        for m in members
    )
    say(
        f"{len(orgs)} organizations, {len(sites)} sites, {len(study_sites)} StudySites, "
        f"{len(users)} users"
    )
    by_site: dict[int, list[Any]] = {}
    for ss in study_sites:
        by_site.setdefault(ss.site_id, []).append(ss)
    return {
        "tag": tag,
        "sites": sites,
        "study_sites": by_site,
        "coordinators": coordinators,
        "site_leads": leads_by_org,
    }


PERSON_COLUMNS = [
    "id", "code", "organization_id", "first_name", "last_name", "phone", "email",
    "postal_code", "preferred_channel", "preferred_time", "preferred_language",
    "consent_phone", "consent_sms", "consent_email", "consent_text_version",
    "created_at", "updated_at",
]  # fmt: skip
LEAD_COLUMNS = [
    "id", "code", "organization_id", "person_id", "study_site_id", "source", "campaign", "utm",
    "referral_partner", "material_version", "owner_id", "status", "blocker", "blocker_text",
    "next_action", "next_action_due_at", "attention_at", "stale_at", "sla_due_at", "attempts",
    "close_reason", "received_at", "last_movement_at", "status_changed_at", "first_contact_at",
    "prescreened_at", "records_ready_at", "scheduled_at", "handed_off_at", "closed_at", "version",
]  # fmt: skip


# The full rows are written and dropped block by block: ten million do not fit in memory.
BLOCK = 250_000


def _leads(
    plan: Plan, rng: random.Random, now: datetime, made: dict[str, Any], say: Callable[[str], None]
) -> list[Made]:
    """The leads written (what the prescreens are made from)."""
    sites = made["sites"]
    site_choices = rng.choices(range(len(sites)), plan.site_weights, k=plan.leads)
    statuses, weights = zip(*STATUS_MIX, strict=True)
    person_ids, lead_ids = Ids("leads_person"), Ids("leads_lead")
    written: list[Made] = []
    leads: list[tuple[Any, ...]] = []
    people: list[tuple[Any, ...]] = []
    for n, site_index in enumerate(site_choices):
        site = sites[site_index]
        study_site = rng.choice(made["study_sites"][site.pk])
        status = rng.choices(statuses, weights)[0]
        owners = made["coordinators"][site.pk]
        owner = owners[n % len(owners)]
        person_id, lead_id = person_ids.take(), lead_ids.take()
        first, last = rng.choice(FIRST), rng.choice(LAST)
        received = now - timedelta(days=rng.uniform(0, 30 if status in OPEN_STATUSES else 700))
        people.append((
            person_id, uuid.uuid4(), site.organization_id, first, last,
            f"+1312{rng.randint(2000000, 9999999)}", f"p{person_id}@bench.example", "60601",
            "phone", "", "en", True, False, True, "2026-01", received, received,
        ))  # fmt: skip
        leads.append(
            _lead_row(rng, now, lead_id, person_id, site, study_site, owner, status, received)
        )
        if len(leads) == BLOCK or n == len(site_choices) - 1:
            copy_rows("leads_person", PERSON_COLUMNS, iter(people))
            copy_rows("leads_lead", LEAD_COLUMNS, iter(leads))
            written += [Made(*(row[i] for i in MADE_COLUMNS)) for row in leads]
            people, leads = [], []
    say(f"{len(written)} people and leads copied")
    count = copy_rows("leads_activity", ACTIVITY_COLUMNS, _activities(rng, written, made))
    say(f"{count} activities copied")
    generate_records(rng, now, made, written, say)
    return written


def _lead_row(
    rng: random.Random, now: datetime, lead_id: int, person_id: int, site: Any, study_site: Any,
    owner: Any, status: str, received: datetime,
) -> tuple[Any, ...]:  # fmt: skip
    moved = received + (now - received) * rng.uniform(0.3, 1.0)
    is_open = status in OPEN_STATUSES
    next_action = NEXT_ACTION.get(status, "")
    due = now + timedelta(hours=rng.uniform(-96, 96)) if is_open else None
    stale = moved + timedelta(days=7) if is_open else None
    attention = min(due, stale) if is_open and due and stale else None
    sla = moved + timedelta(hours=rng.uniform(8, 72)) if is_open else None
    blocker = (
        rng.choice(["", "", "", Blocker.NO_RESPONSE, Blocker.MISSING_RECORDS]) if is_open else ""
    )
    closed = moved if status == "closed" else None
    return (
        lead_id, uuid.uuid4(), site.organization_id, person_id, study_site.pk,
        rng.choice(SOURCES), "", "{}", "", "", owner.pk, status, blocker, "",
        next_action, due, attention, stale, sla, 0,
        rng.choice(CLOSE_REASONS) if status == "closed" else "",
        received, moved, moved, received + (moved - received) / 3, None, None, None,
        moved if status == "handed_off" else None, closed, 5,
    )  # fmt: skip


def _activities(
    rng: random.Random, leads: list[Made], made: dict[str, Any]
) -> Iterator[tuple[Any, ...]]:
    for lead in leads:
        lead_id, org_id, received, moved = (
            lead.id,
            lead.organization_id,
            lead.received_at,
            lead.moved_at,
        )
        count = 50 if lead_id % 1000 == 0 else rng.randint(2, 8)
        span = max((moved - received).total_seconds(), 60.0)
        yield (org_id, lead_id, "received", received, None, "", "", "", "", '{"version": 1}')
        for k in range(1, count):
            at = received + timedelta(seconds=span * k / count)
            if k % 3 == 1:
                yield (org_id, lead_id, "contact_attempt", at, None, "phone", "outbound",
                       "no_answer", "", f'{{"version": {k + 1}}}')  # fmt: skip
            elif k % 3 == 2:
                yield (org_id, lead_id, "note", at, None, "", "", "", "Left a message.",
                       f'{{"version": {k + 1}}}')  # fmt: skip
            else:
                yield (org_id, lead_id, "next_action", at, None, "", "", "", "",
                       f'{{"version": {k + 1}}}')  # fmt: skip
