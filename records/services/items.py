"""A lead's record items through needed → requested → received → reviewed.

Each change locks the lead first (so two changes to one lead's items queue up and the second
sees the first), writes its audit row, and brings the lead in line (records.services.readiness)
in the same transaction.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from leads.models import ActivityKind, Lead
from leads.services.timeline import activity_add
from records.dates import site_today
from records.models import ItemState, Method, Provider, RecordItem, RecordRequirement
from records.services.readiness import lead_records_sync
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.lib.text import check_text

ITEM_FIELDS = (
    "state", "provider_id", "method", "requested_on", "due_on", "authorization_on_file",
    "follow_ups", "received_on", "record_date", "within_lookback", "insufficient_reason",
)  # fmt: skip
# Dates about a person's medical records and a reviewer's words: named in the audit, not copied.
PHI = ("record_date", "insufficient_reason")
MAX_DUE_DAYS = 365
REASON_MAX = 300  # RecordItem.insufficient_reason
MAX_RECORD_AGE_DAYS = 100 * 365


def _snapshot(item: RecordItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in ITEM_FIELDS}


@transaction.atomic
def record_items_create(*, lead: Lead, actor: Actor) -> list[RecordItem]:
    """The lead's items for its StudySite's checklist, as it is now: one per item the lead does
    not have yet (a lead back at the records step keeps what it had)."""
    have = RecordItem.objects.filter(lead=lead).values_list("requirement_id", flat=True)
    missing = RecordRequirement.objects.filter(
        study_site_id=lead.study_site_id, archived_at__isnull=True
    ).exclude(pk__in=have)
    items = RecordItem.objects.bulk_create(
        RecordItem(organization_id=lead.organization_id, lead=lead, requirement=requirement)
        for requirement in missing
    )
    if items:
        names = ", ".join(item.requirement.name for item in items)
        activity_add(
            lead,
            ActivityKind.RECORDS,
            actor,
            timezone.now(),
            data={"detail": f"{len(items)} to collect: {names}"},
        )
        audit_record(
            action="record_items.created",
            actor=actor.user,
            organization_id=lead.organization_id,
            obj=lead,
            changes={"items": {"new": sorted(str(i.requirement.code) for i in items)}},
            request=actor.request,
        )
    return items


def _lock(item: RecordItem) -> tuple[RecordItem, Lead]:
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("study_site__site")
        .get(pk=item.lead_id)
    )
    if not lead.is_open:
        raise ValidationError("The lead is closed: its records are as they were left.")
    locked = (
        RecordItem.objects.select_for_update(of=("self",))
        .select_related("requirement")
        .get(pk=item.pk)
    )
    return locked, lead


def _move(item: RecordItem, to: str) -> None:
    if to not in RecordItem.TRANSITIONS[item.state]:
        label = ItemState(item.state).label.lower()
        raise ValidationError(f"A record that is {label} cannot be {ItemState(to).label.lower()}.")
    item.state = to


def _timeline_detail(item: RecordItem, action: str, before: dict[str, Any]) -> str:
    """The lead timeline's line for an item's change (stored with the entry)."""
    label, practice = item.requirement.label, item.provider.practice if item.provider else ""
    if action == "record_item.requested":
        return (
            f"{label}: requested from {practice} by {item.get_method_display().lower()}, "
            f"due {item.due_on:%Y-%m-%d}"
        )
    if action == "record_item.followed_up":
        moved = f", now due {item.due_on:%Y-%m-%d}" if item.due_on != before["due_on"] else ""
        return f"{label}: followed up with {practice}{moved}"
    if action == "record_item.received":
        old = " (older than the look-back window)" if item.within_lookback is False else ""
        return f"{label}: received, dated {item.record_date:%Y-%m-%d}{old}"
    if action == "record_item.reviewed":
        return f"{label}: reviewed, sufficient"
    return f"{label}: insufficient, asked again by {item.due_on:%Y-%m-%d}"


def _save(
    item: RecordItem, lead: Lead, before: dict[str, Any], actor: Actor, action: str
) -> RecordItem:
    item.save()
    activity_add(
        lead,
        ActivityKind.RECORDS,
        actor,
        timezone.now(),
        text=item.insufficient_reason if action == "record_item.insufficient" else "",
        data={"detail": _timeline_detail(item, action, before), "item": str(item.code)},
    )
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=item.organization_id,
        obj=item,
        changes=changed_fields(old=before, new=_snapshot(item), phi=PHI),
        request=actor.request,
    )
    lead_records_sync(lead=lead, actor=actor)
    return item


def _check_due(requested_on: datetime.date, due_on: datetime.date) -> None:
    if due_on < requested_on:
        raise ValidationError({"due_on": "The due date cannot be before the request."})
    if (due_on - requested_on).days > MAX_DUE_DAYS:
        raise ValidationError({"due_on": "Give a due date within a year of the request."})


@transaction.atomic
def record_item_request(
    *,
    item: RecordItem,
    provider: Provider,
    method: str,
    requested_on: datetime.date,
    due_on: datetime.date,
    authorization_on_file: bool,
    actor: Actor,
) -> RecordItem:
    """Ask a provider for the record (or ask again, another provider or by another date)."""
    item, lead = _lock(item)
    if item.state not in (ItemState.NEEDED, ItemState.REQUESTED):
        # A received record is asked for again only by reviewing it insufficient (with why).
        raise ValidationError("This record came in: review it before asking for it again.")
    if provider.organization_id != item.organization_id:
        raise ValidationError({"provider": "Pick a provider of your organization."})
    if method not in Method.values:
        raise ValidationError({"method": "Pick how the record is requested."})
    today = site_today(lead.study_site.site, timezone.now())
    if requested_on > today:
        raise ValidationError({"requested_on": "A request cannot be dated in the future."})
    if (today - requested_on).days > MAX_DUE_DAYS:
        raise ValidationError({"requested_on": "Give a request date within the last year."})
    _check_due(requested_on, due_on)
    before = _snapshot(item)
    _move(item, ItemState.REQUESTED)
    item.provider, item.method = provider, method
    item.requested_on, item.due_on = requested_on, due_on
    item.authorization_on_file = authorization_on_file
    return _save(item, lead, before, actor, "record_item.requested")


@transaction.atomic
def record_item_follow_up(
    *, item: RecordItem, actor: Actor, due_on: datetime.date | None = None
) -> RecordItem:
    """A chase of an outstanding request, optionally with a new due date."""
    item, lead = _lock(item)
    if item.state != ItemState.REQUESTED:
        raise ValidationError("Only an outstanding request can be followed up.")
    assert item.requested_on is not None
    before = _snapshot(item)
    if due_on is not None:
        _check_due(item.requested_on, due_on)
        item.due_on = due_on
    item.follow_ups += 1
    item.last_follow_up_on = site_today(lead.study_site.site, timezone.now())
    return _save(item, lead, before, actor, "record_item.followed_up")


def lookback_met(
    requirement: RecordRequirement, record_date: datetime.date, received_on: datetime.date
) -> bool | None:
    """Whether the record is recent enough: dated within the look-back window before the day
    it came in (None: the item has no window)."""
    if not requirement.lookback_days:
        return None
    return (received_on - record_date).days <= requirement.lookback_days


@transaction.atomic
def record_item_receive(
    *, item: RecordItem, received_on: datetime.date, record_date: datetime.date, actor: Actor
) -> RecordItem:
    """The record came in. Its own date is checked against the look-back window."""
    item, lead = _lock(item)
    before = _snapshot(item)
    _move(item, ItemState.RECEIVED)
    assert item.requested_on is not None
    today = site_today(lead.study_site.site, timezone.now())
    if received_on > today:
        raise ValidationError({"received_on": "A record cannot be received in the future."})
    if received_on < item.requested_on:
        raise ValidationError({"received_on": "The record cannot arrive before the request."})
    if record_date > received_on:
        raise ValidationError({"record_date": "The record cannot be dated after it arrived."})
    if (received_on - record_date).days > MAX_RECORD_AGE_DAYS:
        raise ValidationError({"record_date": "Check the record's date."})
    item.received_on, item.record_date = received_on, record_date
    item.within_lookback = lookback_met(item.requirement, record_date, received_on)
    return _save(item, lead, before, actor, "record_item.received")


@transaction.atomic
def record_item_review(
    *,
    item: RecordItem,
    sufficient: bool,
    actor: Actor,
    reason: str = "",
    due_on: datetime.date | None = None,
) -> RecordItem:
    """Reviewed sufficient; or insufficient, with a reason, and asked for again from the same
    provider (by `due_on`)."""
    item, lead = _lock(item)
    if item.state != ItemState.RECEIVED:
        raise ValidationError("Only a received record can be reviewed.")
    reason = check_text(reason.strip(), field="reason", max_length=REASON_MAX)
    before = _snapshot(item)
    if sufficient:
        if item.within_lookback is False:
            raise ValidationError(
                "The record is older than the look-back window allows: mark it insufficient "
                "and ask for a recent one."
            )
        item.state = ItemState.REVIEWED
        item.insufficient_reason = ""
        item.reviewed_at, item.reviewed_by = timezone.now(), actor.user
        return _save(item, lead, before, actor, "record_item.reviewed")
    if not reason:
        raise ValidationError({"reason": "Say why the record is not sufficient."})
    today = site_today(lead.study_site.site, timezone.now())
    if due_on is None:
        raise ValidationError({"due_on": "Give a new due date for the request."})
    _check_due(today, due_on)
    item.state = ItemState.REQUESTED
    item.insufficient_reason = reason
    item.requested_on, item.due_on = today, due_on
    item.received_on = item.record_date = item.within_lookback = None
    item.follow_ups, item.last_follow_up_on = 0, None
    return _save(item, lead, before, actor, "record_item.insufficient")
