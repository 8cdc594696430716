"""Record items through needed → requested → received → reviewed, the look-back check, the
records-ready rule, and what each step does to the lead (blocker, next action, status)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leads.models import ActionKind, ActivityKind, Blocker, CloseReason, Lead, Status
from leads.services import lead_change_status
from records.models import ItemState, Method, Provider, RecordItem, RecordRequirement
from records.services import checklist as checklist_services
from records.services import (
    provider_create,
    record_item_follow_up,
    record_item_receive,
    record_item_request,
    record_item_review,
    requirement_archive,
    requirement_create,
)
from tests.conftest import World
from tests.factories import new_lead
from tests.leads.conftest import actor_of
from tests.records.conftest import TODAY, fresh_lead, items_of, to_records
from trialsnest.audit.models import AuditEvent

DAY = datetime.timedelta(days=1)


def _request(item: RecordItem, provider: Provider, world: World, due_in: int = 7) -> RecordItem:
    return record_item_request(
        item=item,
        provider=provider,
        method=Method.FAX,
        requested_on=TODAY,
        due_on=TODAY + due_in * DAY,
        authorization_on_file=True,
        actor=actor_of(world, "coordinator"),
    )


def _receive(item: RecordItem, world: World, dated: datetime.date = TODAY - 10 * DAY) -> None:
    record_item_receive(
        item=item, received_on=TODAY, record_date=dated, actor=actor_of(world, "coordinator")
    )


def _sufficient(item: RecordItem, world: World) -> None:
    record_item_review(item=item, sufficient=True, actor=actor_of(world, "coordinator"))


def test_a_lead_reaching_the_records_step_gets_one_needed_item_per_checklist_item(
    records_lead: Lead,
):
    items = items_of(records_lead)

    assert set(items) == {"HbA1c", "Colonoscopy report", "Allergy list"}
    assert {item.state for item in items.values()} == {ItemState.NEEDED}
    lead = fresh_lead(records_lead)
    assert lead.status == Status.RECORDS_PENDING
    assert lead.next_action == ActionKind.REQUEST_RECORDS
    assert AuditEvent.objects.filter(action="record_items.created").count() == 1


def test_an_archived_checklist_item_is_not_given_to_new_leads(world: World, checklist, clock):
    requirement_archive(requirement=checklist[2], actor=actor_of(world))
    lead = to_records(new_lead(study_site=world.study_site_a), world)

    assert set(items_of(lead)) == {"HbA1c", "Colonoscopy report"}


def test_a_lead_back_at_the_records_step_keeps_its_items_and_gets_only_new_ones(
    world: World, records_lead: Lead, provider: Provider
):
    _request(items_of(records_lead)["HbA1c"], provider, world)
    actor = actor_of(world)
    lead = lead_change_status(
        lead=records_lead, status=Status.CLOSED, close_reason=CloseReason.WITHDRAWN, actor=actor
    )
    requirement_create(
        study_site=world.study_site_a,
        name="Chest X-ray",
        required=False,
        lookback_days=None,
        instructions="",
        actor=actor,
    )
    lead = lead_change_status(lead=lead, status=Status.CONTACTING, reason="Back", actor=actor)
    to_records(lead, world)

    items = items_of(lead)
    assert len(items) == 4
    assert items["HbA1c"].state == ItemState.REQUESTED


def test_a_lead_of_a_study_without_checklist_gets_no_items(world: World, clock):
    lead = to_records(new_lead(study_site=world.study_site_a2), world)

    assert items_of(lead) == {}
    assert fresh_lead(lead).next_action == ActionKind.REQUEST_RECORDS


def test_requesting_a_record_blocks_the_lead_on_missing_records_and_plans_the_chase(
    world: World, records_lead: Lead, provider: Provider
):
    item = items_of(records_lead)["Colonoscopy report"]
    for other in ("HbA1c", "Allergy list"):
        _request(items_of(records_lead)[other], provider, world, due_in=10)

    _request(item, provider, world, due_in=7)

    item.refresh_from_db()
    assert item.state == ItemState.REQUESTED
    assert (item.provider, item.due_on, item.authorization_on_file) == (
        provider,
        TODAY + 7 * DAY,
        True,
    )
    lead = fresh_lead(records_lead)
    assert lead.blocker == Blocker.MISSING_RECORDS
    assert lead.next_action == ActionKind.CHASE_RECORDS
    # Chased when the first request falls overdue: the site's opening the day after it is due.
    assert lead.next_action_due_at == datetime.datetime(
        2025, 6, 12, 14, 0, tzinfo=datetime.UTC
    )  # 09:00 in Chicago
    assert AuditEvent.objects.filter(action="record_item.requested", object_id=str(item.code))


def test_a_lead_with_items_still_needed_keeps_request_records_as_next_action(
    world: World, records_lead: Lead, provider: Provider
):
    _request(items_of(records_lead)["HbA1c"], provider, world)

    lead = fresh_lead(records_lead)
    assert lead.blocker == Blocker.MISSING_RECORDS
    assert lead.next_action == ActionKind.REQUEST_RECORDS


def test_a_follow_up_counts_and_can_move_the_due_date(
    world: World, records_lead: Lead, provider: Provider
):
    item = _request(items_of(records_lead)["HbA1c"], provider, world)

    record_item_follow_up(item=item, due_on=TODAY + 14 * DAY, actor=actor_of(world))

    item.refresh_from_db()
    assert (item.follow_ups, item.last_follow_up_on, item.due_on) == (1, TODAY, TODAY + 14 * DAY)


def test_receiving_a_record_clears_the_blocker_when_nothing_else_is_outstanding(
    world: World, records_lead: Lead, provider: Provider
):
    items = items_of(records_lead)
    for name in ("HbA1c", "Colonoscopy report"):
        _request(items[name], provider, world)
    _receive(items["HbA1c"], world)
    assert fresh_lead(records_lead).blocker == Blocker.MISSING_RECORDS

    _receive(items["Colonoscopy report"], world)

    lead = fresh_lead(records_lead)
    assert lead.blocker == ""
    assert lead.next_action == ActionKind.REVIEW_RECORDS


def test_the_look_back_window_is_checked_against_the_records_own_date(
    world: World, records_lead: Lead, provider: Provider
):
    items = items_of(records_lead)
    recent, old = items["HbA1c"], items["Colonoscopy report"]
    _request(recent, provider, world)
    _receive(recent, world, dated=TODAY - 90 * DAY)  # the last day of the window
    _request(old, provider, world)
    _receive(old, world, dated=TODAY - 400 * DAY)  # no window: any date will do

    recent.refresh_from_db()
    old.refresh_from_db()
    assert recent.within_lookback is True
    assert old.within_lookback is None


def test_a_record_older_than_its_window_cannot_be_reviewed_sufficient(
    world: World, records_lead: Lead, provider: Provider
):
    item = _request(items_of(records_lead)["HbA1c"], provider, world)
    _receive(item, world, dated=TODAY - 91 * DAY)
    item.refresh_from_db()
    assert item.within_lookback is False

    with pytest.raises(ValidationError, match="older than the look-back window"):
        _sufficient(item, world)

    item.refresh_from_db()
    assert item.state == ItemState.RECEIVED


def test_an_insufficient_review_sends_the_item_back_to_requested_with_the_reason(
    world: World, records_lead: Lead, provider: Provider
):
    item = _request(items_of(records_lead)["HbA1c"], provider, world)
    _receive(item, world, dated=TODAY - 120 * DAY)

    record_item_review(
        item=item,
        sufficient=False,
        reason="Older than 90 days",
        due_on=TODAY + 5 * DAY,
        actor=actor_of(world),
    )

    item.refresh_from_db()
    assert item.state == ItemState.REQUESTED
    assert item.insufficient_reason == "Older than 90 days"
    assert (item.requested_on, item.due_on, item.received_on) == (TODAY, TODAY + 5 * DAY, None)
    assert fresh_lead(records_lead).blocker == Blocker.MISSING_RECORDS
    event = AuditEvent.objects.get(action="record_item.insufficient")
    assert event.changes["insufficient_reason"] == {"phi": True}


def test_an_insufficient_review_needs_a_reason_and_a_due_date(
    world: World, records_lead: Lead, provider: Provider
):
    item = _request(items_of(records_lead)["HbA1c"], provider, world)
    _receive(item, world)

    with pytest.raises(ValidationError, match="Say why"):
        record_item_review(item=item, sufficient=False, actor=actor_of(world))
    with pytest.raises(ValidationError, match="new due date"):
        record_item_review(item=item, sufficient=False, reason="Blurry", actor=actor_of(world))


def test_the_lead_is_ready_to_schedule_once_every_required_item_is_reviewed_sufficient(
    world: World, records_lead: Lead, provider: Provider
):
    items = items_of(records_lead)
    for name in ("HbA1c", "Colonoscopy report"):
        _request(items[name], provider, world)
        _receive(items[name], world)
    _sufficient(items["HbA1c"], world)
    assert fresh_lead(records_lead).status == Status.RECORDS_PENDING

    _sufficient(items["Colonoscopy report"], world)  # the optional allergy list is still needed

    lead = fresh_lead(records_lead)
    assert lead.status == Status.RECORDS_READY
    assert lead.next_action == ActionKind.SCHEDULE_VISIT
    assert lead.blocker == ""
    assert lead.records_ready_at is not None
    assert lead.activities.filter(text="Every required record reviewed: sufficient.").exists()


def test_an_archived_required_item_no_longer_holds_the_lead_back(
    world: World, records_lead: Lead, provider: Provider, checklist: list[RecordRequirement]
):
    item = _request(items_of(records_lead)["HbA1c"], provider, world)
    _receive(item, world)
    requirement_archive(requirement=checklist[1], actor=actor_of(world))

    _sufficient(item, world)

    assert fresh_lead(records_lead).status == Status.RECORDS_READY


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (ItemState.NEEDED, "receive"),
        (ItemState.NEEDED, "review"),
        (ItemState.NEEDED, "follow_up"),
        (ItemState.REQUESTED, "review"),
        (ItemState.RECEIVED, "receive"),
        (ItemState.RECEIVED, "request"),
        (ItemState.RECEIVED, "follow_up"),
        (ItemState.REVIEWED, "request"),
        (ItemState.REVIEWED, "receive"),
        (ItemState.REVIEWED, "review"),
    ],
)
def test_moves_the_state_machine_does_not_have_are_refused(
    world: World, records_lead: Lead, provider: Provider, state: str, action: str
):
    item = items_of(records_lead)["Allergy list"]  # optional: the lead stays at the records step
    steps: dict[str, Callable[[], object]] = {
        ItemState.NEEDED: lambda: None,
        ItemState.REQUESTED: lambda: _request(item, provider, world),
        ItemState.RECEIVED: lambda: _receive(item, world),
        ItemState.REVIEWED: lambda: _sufficient(item, world),
    }
    for step in list(steps)[: list(steps).index(state) + 1]:
        steps[step]()
    moves = {
        "request": lambda: _request(item, provider, world),
        "receive": lambda: _receive(item, world),
        "review": lambda: _sufficient(item, world),
        "follow_up": lambda: record_item_follow_up(item=item, actor=actor_of(world)),
    }

    with pytest.raises(ValidationError):
        moves[action]()

    item.refresh_from_db()
    assert item.state == state


def test_dates_that_contradict_each_other_are_refused(
    world: World, records_lead: Lead, provider: Provider
):
    item = items_of(records_lead)["HbA1c"]
    actor = actor_of(world)
    with pytest.raises(ValidationError, match="before the request"):
        record_item_request(
            item=item, provider=provider, method=Method.FAX, requested_on=TODAY,
            due_on=TODAY - DAY, authorization_on_file=False, actor=actor,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="future"):
        record_item_request(
            item=item, provider=provider, method=Method.FAX, requested_on=TODAY + DAY,
            due_on=TODAY + 2 * DAY, authorization_on_file=False, actor=actor,
        )  # fmt: skip
    _request(item, provider, world)
    with pytest.raises(ValidationError, match="dated after it arrived"):
        record_item_receive(item=item, received_on=TODAY, record_date=TODAY + DAY, actor=actor)
    with pytest.raises(ValidationError, match="before the request"):
        record_item_receive(
            item=item, received_on=TODAY - DAY, record_date=TODAY - 9 * DAY, actor=actor
        )


def test_another_organizations_provider_cannot_be_asked(
    world: World, records_lead: Lead, provider: Provider
):
    theirs = provider_create(
        organization_id=world.org_b.pk, actor=actor_of(world), practice="B Clinic", phone="1"
    )

    with pytest.raises(ValidationError, match="provider of your organization"):
        _request(items_of(records_lead)["HbA1c"], theirs, world)


def test_a_closed_leads_records_stay_as_they_were(
    world: World, records_lead: Lead, provider: Provider
):
    lead_change_status(
        lead=records_lead,
        status=Status.CLOSED,
        close_reason=CloseReason.NOT_INTERESTED,
        actor=actor_of(world),
    )

    with pytest.raises(ValidationError, match="closed"):
        _request(items_of(records_lead)["HbA1c"], provider, world)


def test_the_database_refuses_an_item_whose_fields_contradict_its_state(records_lead: Lead):
    item = items_of(records_lead)["HbA1c"]

    with pytest.raises(IntegrityError), transaction.atomic():
        RecordItem.objects.filter(pk=item.pk).update(state=ItemState.REQUESTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordItem.objects.filter(pk=item.pk).update(state="lost")


def test_the_database_refuses_a_provider_without_a_way_to_reach_them(world: World):
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(organization=world.org_a, practice="Nowhere")


def test_a_checklist_item_name_is_unique_per_study_site_in_any_case(
    world: World, checklist: list[RecordRequirement]
):
    with pytest.raises(ValidationError, match="already has an item"):
        requirement_create(
            study_site=world.study_site_a, name="hba1c", required=True, lookback_days=None,
            instructions="", actor=actor_of(world),
        )  # fmt: skip
    assert RecordRequirement.objects.filter(study_site=world.study_site_a).count() == 3


def test_a_practice_is_in_the_directory_once_per_organization(world: World, provider: Provider):
    with pytest.raises(ValidationError, match="already has a practice"):
        provider_create(
            organization_id=world.org_a.pk, actor=actor_of(world),
            practice="denver family practice", phone="+13035550100",
        )  # fmt: skip
    other = provider_create(
        organization_id=world.org_b.pk, actor=actor_of(world),
        practice="Denver Family Practice", phone="+13035550100",
    )  # fmt: skip
    assert other.organization_id == world.org_b.pk


def test_each_step_of_an_item_is_on_the_leads_timeline(
    world: World, records_lead: Lead, provider: Provider
):
    item = _request(items_of(records_lead)["HbA1c"], provider, world)
    _receive(item, world, dated=TODAY - 100 * DAY)
    record_item_review(
        item=item, sufficient=False, reason="Too old", due_on=TODAY + 3 * DAY,
        actor=actor_of(world),
    )  # fmt: skip

    entries = records_lead.activities.filter(kind=ActivityKind.RECORDS).order_by("at", "id")
    assert [(e.data["detail"], e.text) for e in entries] == [
        ("3 to collect: HbA1c, Colonoscopy report, Allergy list", ""),
        ("HbA1c within 90 days: requested from Denver Family Practice by fax, due 2025-06-11", ""),
        ("HbA1c within 90 days: received, dated 2025-02-24 (older than the look-back window)", ""),
        ("HbA1c within 90 days: insufficient, asked again by 2025-06-07", "Too old"),
    ]


def test_a_new_item_can_go_to_the_leads_waiting_on_records_now(
    world: World, records_lead: Lead, checklist, monkeypatch
):
    monkeypatch.setattr(checklist_services, "BATCH", 2)  # three leads: two batches
    others = [to_records(new_lead(study_site=world.study_site_a), world) for _ in range(2)]
    elsewhere = to_records(new_lead(study_site=world.study_site_a2), world)
    not_yet = new_lead(study_site=world.study_site_a)
    actor = actor_of(world)

    later = requirement_create(study_site=world.study_site_a, name="Later item", required=False,
                               lookback_days=None, instructions="", actor=actor)  # fmt: skip
    now = requirement_create(study_site=world.study_site_a, name="Medication list", required=True,
                             lookback_days=None, instructions="", actor=actor,
                             add_to_waiting=True)  # fmt: skip

    for lead in (records_lead, *others):
        items = items_of(lead)
        assert items["Medication list"].state == ItemState.NEEDED
        assert "Later item" not in items
        assert fresh_lead(lead).status == Status.RECORDS_PENDING
        assert lead.activities.filter(
            kind=ActivityKind.RECORDS, data__detail="1 more to collect: Medication list"
        ).exists()
    assert not RecordItem.objects.filter(lead__in=[elsewhere, not_yet], requirement=now).exists()
    assert AuditEvent.objects.filter(action="record_items.created",
                                     changes__items__new=[str(now.code)]).count() == 3  # fmt: skip
    assert later.pk != now.pk
    # Run again (a double submit): nobody gets it twice.
    assert checklist_services.requirement_add_to_waiting(requirement=now, actor=actor) == 0
