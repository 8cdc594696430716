"""Records readiness in the generated data: a checklist per StudySite (30 items at the largest
site's first StudySite, for the lead page with 30 record items; 3 elsewhere), a provider
directory per organization, and record items for about a fifth of the leads: every lead at the
records step or past it, and a fifth of those handed off."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from records.models import ItemState, Method, Provider, RecordRequirement
from trialsnest.bench.rows import Made
from trialsnest.lib.db import copy_rows

NAMES = ["HbA1c", "Colonoscopy report", "Medication list", "Lipid panel", "ECG", "Chest X-ray"]
PRACTICES = ["Family Practice", "Internal Medicine", "GI Associates", "Cardiology Group",
             "Endocrine Clinic", "Community Health Center"]  # fmt: skip
RECORDS_STATUSES = ("records_pending", "records_ready", "visit_scheduled")
PENDING_MIX = [ItemState.NEEDED, ItemState.REQUESTED, ItemState.REQUESTED, ItemState.RECEIVED,
               ItemState.REVIEWED]  # fmt: skip
LOOKBACK = 90
ITEM_COLUMNS = [
    "code", "organization_id", "lead_id", "requirement_id", "state", "provider_id", "method",
    "requested_on", "due_on", "authorization_on_file", "follow_ups", "last_follow_up_on",
    "received_on", "record_date", "within_lookback", "reviewed_at", "reviewed_by_id",
    "insufficient_reason", "created_at", "updated_at",
]  # fmt: skip


def generate_records(
    rng: random.Random,
    now: datetime,
    made: dict[str, Any],
    leads: list[Made],
    say: Callable[[str], None],
) -> int:
    largest = made["sites"][0].pk  # the power law's first site is the largest
    checklists: dict[int, list[int]] = {}
    requirements = []
    for site_pk, study_sites in made["study_sites"].items():
        for k, ss in enumerate(study_sites):
            size = 30 if site_pk == largest and k == 0 else 3
            requirements += [
                RecordRequirement(
                    organization_id=ss.organization_id,
                    study_site_id=ss.pk,
                    position=i,
                    name=f"{NAMES[i % len(NAMES)]} {i // len(NAMES) + 1}",
                    required=i % 5 != 4,
                    lookback_days=LOOKBACK if i % 2 == 0 else None,
                )
                for i in range(size)
            ]
    RecordRequirement.objects.bulk_create(requirements)
    for requirement in requirements:
        checklists.setdefault(requirement.study_site_id, []).append(requirement.pk)
    orgs = sorted({site.organization_id for site in made["sites"]})
    providers = Provider.objects.bulk_create(
        Provider(organization_id=org, practice=f"{city} {name}", fax=f"+1303555{i:04d}")
        for org in orgs
        for i, (city, name) in enumerate(
            (city, name) for city in ("Denver", "Aurora") for name in PRACTICES
        )
    )
    directory: dict[int, list[int]] = {}
    for provider in providers:
        directory.setdefault(provider.organization_id, []).append(provider.pk)
    count = copy_rows(
        "records_recorditem", ITEM_COLUMNS, _items(rng, now, leads, checklists, directory)
    )
    say(f"{len(requirements)} checklist items, {len(providers)} providers, {count} record items")
    return count


def _items(
    rng: random.Random,
    now: datetime,
    leads: list[Made],
    checklists: dict[int, list[int]],
    directory: dict[int, list[int]],
) -> Iterator[tuple[Any, ...]]:
    today = now.date()
    for row in leads:
        lead_id, org_id, study_site_id, status = (
            row.id,
            row.organization_id,
            row.study_site_id,
            row.status,
        )
        if status not in RECORDS_STATUSES and not (status == "handed_off" and lead_id % 5 == 0):
            continue
        provider = rng.choice(directory[org_id])
        for requirement_id in checklists[study_site_id]:
            state = rng.choice(PENDING_MIX) if status == "records_pending" else ItemState.REVIEWED
            yield _item(rng, now, today, org_id, lead_id, requirement_id, state, provider)


def _item(
    rng: random.Random, now: datetime, today: date, org_id: int, lead_id: int,
    requirement_id: int, state: str, provider: int,
) -> tuple[Any, ...]:  # fmt: skip
    requested = due = received = record_date = reviewed = None
    within = None
    if state != ItemState.NEEDED:
        requested = today - timedelta(days=rng.randint(0, 20))
        due = requested + timedelta(days=rng.randint(5, 14))  # some are overdue
    if state in (ItemState.RECEIVED, ItemState.REVIEWED):
        assert requested is not None
        received = min(today, requested + timedelta(days=rng.randint(0, 6)))
        record_date = received - timedelta(days=rng.randint(1, 80))
        within = True
    if state == ItemState.REVIEWED:
        reviewed = now
    return (
        uuid.uuid4(), org_id, lead_id, requirement_id, state,
        provider if requested else None, Method.FAX if requested else "",
        requested, due, requested is not None, 0, None, received, record_date, within,
        reviewed, None, "", now, now,
    )  # fmt: skip
