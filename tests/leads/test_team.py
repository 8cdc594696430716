"""The Team page's "reassign all open leads": the confirmation, the set-based write at 10,000
leads, the fair rule with capacities, and undo."""

from __future__ import annotations

import html
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import OPEN_STATUSES, Activity, ActivityKind, BulkChange, BulkChangeLead, Lead
from leads.services import (
    PlanChanged,
    bulk_change_undo,
    choose_owner,
    lead_assign,
    lead_change_status,
    leads_reassign_all,
    reassign_plan,
)
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, many_leads, new_lead
from tests.leads.conftest import actor_of, fresh
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.tenancy.models import Membership, Role


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _url(member: Membership) -> str:
    return reverse("team_reassign", kwargs={"code": member.code})


@pytest.fixture
def leaving(world: World) -> Membership:
    """A coordinator who sees every StudySite of org A and is about to leave."""
    return MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)


def _owners(leads: list[Lead]) -> list[int | None]:
    return list(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner_id", flat=True)
    )


# The confirmation --------------------------------------------------------------------------


def test_the_confirmation_says_how_many_leads_go_to_whom_and_changes_nothing(
    world: World, leaving: Membership
):
    MembershipFactory(organization=world.org_a, role=Role.COORDINATOR, capacity=5)
    leads = [new_lead(study_site=world.study_site_a, owner=leaving) for _ in range(4)]
    before = _owners(leads)
    client = signed_in(world.site_lead.user)

    for response in (client.get(_url(leaving)), client.post(_url(leaving), {"to": ""})):
        assert response.status_code == 200
        body = text(response)
        assert "4 open leads" in body
        assert str(world.coordinator.user) in body
        assert "Reassign 4 leads" in body
        plan = response.context["plan"]
        assert sum(r.leads for r in plan.recipients) == 4
        assert "5</td>" in body  # the capacity of the second coordinator

    assert _owners(leads) == before
    assert not BulkChange.objects.exists()
    assert not AuditEvent.objects.filter(action="lead.assigned").exists()


def test_the_confirmation_for_one_person_names_them(world: World, leaving: Membership):
    new_lead(study_site=world.study_site_a, owner=leaving)

    response = signed_in(world.site_lead.user).get(_url(leaving), {"to": str(world.site_lead.code)})

    plan = response.context["plan"]
    assert [(r.member, r.leads) for r in plan.recipients] == [(world.site_lead, 1)]
    assert f"will go to {world.site_lead.user}" in text(response)


def test_a_confirmed_reassignment_whose_figures_moved_shows_the_new_ones_and_writes_nothing(
    world: World, leaving: Membership
):
    lead = new_lead(study_site=world.study_site_a, owner=leaving)
    client = signed_in(world.site_lead.user)
    expected = client.get(_url(leaving)).context["plan"].fingerprint
    new_lead(study_site=world.study_site_a, owner=leaving)  # arrived meanwhile

    response = client.post(_url(leaving), {"to": "", "expected": expected})

    assert response.status_code == 200
    assert "changed since you looked" in text(response)
    assert response.context["plan"].count == 2
    assert fresh(lead).owner == leaving
    assert not BulkChange.objects.exists()


def test_someone_who_cannot_see_the_leads_is_refused_before_anything_is_confirmed(
    world: World, leaving: Membership
):
    new_lead(study_site=world.study_site_a2, owner=leaving)

    response = signed_in(world.site_lead.user).get(
        _url(leaving), {"to": str(world.coordinator.code)}
    )

    body = text(response)
    assert f"{world.coordinator.user} cannot see the leads of" in body
    assert "Reassign 1 lead" not in body


def test_a_member_without_open_leads_has_nothing_to_confirm(world: World, leaving: Membership):
    response = signed_in(world.site_lead.user).get(_url(leaving))

    assert "has no open leads" in text(response)
    assert 'name="expected"' not in text(response)


def test_the_team_page_offers_the_leads_of_someone_who_left(world: World, leaving: Membership):
    new_lead(study_site=world.study_site_a, owner=leaving)
    Membership.objects.filter(pk=leaving.pk).update(is_active=False)

    body = text(signed_in(world.site_lead.user).get(reverse("team")))

    assert "no longer active" in body
    assert _url(leaving) in body


# The write, set-based ----------------------------------------------------------------------


def test_reassigning_10000_leads_is_set_based_and_leaves_every_trace(
    world: World, leaving: Membership
):
    other = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    few_owner = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    many_leads(study_site=world.study_site_a, owner=few_owner, n=10)
    leads = many_leads(study_site=world.study_site_a, owner=leaving, n=10_000)
    actor = actor_of(world)

    with CaptureQueriesContext(connection) as few:
        leads_reassign_all(from_owner=few_owner, actor=actor)
    with CaptureQueriesContext(connection) as many:
        change = leads_reassign_all(from_owner=leaving, actor=actor)

    assert len(many) == len(few) <= 20, [q["sql"][:70] for q in many]
    assert change.lead_count == 10_000
    ids = [lead.pk for lead in leads]
    moved = Lead.objects.filter(pk__in=ids)
    assert not moved.filter(owner=leaving).exists()
    assert set(moved.values_list("version", flat=True)) == {2}
    # Fair: everyone who can see study_site_a started even, so they end within one of each other.
    shares = Counter(moved.values_list("owner_id", flat=True))
    assert set(shares) == {world.coordinator.pk, other.pk, few_owner.pk}
    assert max(shares.values()) - min(shares.values()) <= 1 + 10
    # One audit row per lead, as lead_assign writes it, and one for the change.
    audits = AuditEvent.objects.filter(action="lead.assigned", reason__contains=str(change.code))
    assert audits.count() == 10_000
    assert set(audits.values_list("object_id", flat=True)) == {str(lead.code) for lead in leads}
    assert {a.changes["owner_id"]["old"] for a in audits.only("changes")[:50]} == {leaving.pk}
    assert AuditEvent.objects.filter(action="bulk_change.created", object_id=str(change.code))
    # One timeline entry per lead, naming its new owner and the version it produced.
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM leads_activity a
               JOIN leads_lead l ON l.id = a.lead_id
               JOIN tenancy_membership m ON m.id = l.owner_id
               WHERE a.kind = 'assignment' AND a.data->>'owner' = m.code::text
                 AND (a.data->>'version')::int = l.version AND l.id = ANY(%s)""",
            [ids],
        )
        assert cursor.fetchone()[0] == 10_000
    # The record undo reads: each lead's previous owner and the version the change left.
    record = BulkChangeLead.objects.filter(change=change)
    assert record.count() == 10_000
    assert set(record.values_list("previous_owner_id", "version").distinct()) == {(leaving.pk, 2)}


def test_reassigning_to_one_person_moves_only_open_leads(world: World, leaving: Membership):
    theirs = [new_lead(study_site=world.study_site_a, owner=leaving) for _ in range(3)]
    closed = lead_change_status(
        lead=theirs.pop(), status="closed", close_reason="duplicate", actor=actor_of(world)
    )

    change = leads_reassign_all(from_owner=leaving, to_owner=world.admin, actor=actor_of(world))

    assert change.lead_count == 2
    assert {fresh(lead).owner for lead in theirs} == {world.admin}
    assert fresh(closed).owner == leaving
    assert fresh(closed).version == closed.version


# The fair rule -----------------------------------------------------------------------------


def _one_by_one(from_owner: Membership) -> dict[int, int]:
    """The owners the old loop chose, one lead at a time (rolled back)."""
    chosen = {}
    savepoint = transaction.savepoint_create()
    leads = Lead.objects.filter(owner=from_owner, status__in=OPEN_STATUSES).order_by("id")
    for lead in leads.select_related("study_site__site"):
        owner = choose_owner(lead.study_site, exclude=from_owner)
        lead_assign(lead=lead, owner=owner, actor=Actor(user=None))
        chosen[lead.pk] = owner.pk
    transaction.savepoint_rollback(savepoint)
    return chosen


def test_spreading_fairly_chooses_the_owners_the_one_by_one_rule_would(
    world: World, leaving: Membership
):
    roomy = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    small = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR, capacity=4)
    Membership.objects.filter(pk=roomy.pk).update(last_assigned_at=timezone.now())
    for owner, n in ((world.coordinator, 3), (small, 1), (roomy, 2)):
        many_leads(study_site=world.study_site_a, owner=owner, n=n)
    many_leads(study_site=world.study_site_a, owner=leaving, n=17)

    plan = reassign_plan(from_owner=leaving)

    assert dict(zip(plan.lead_ids, plan.owner_ids, strict=True)) == _one_by_one(leaving)
    shares = {r.member.pk: r.leads for r in plan.recipients}
    assert shares[small.pk] == 3  # up to its capacity of 4, never past it
    assert (shares[world.coordinator.pk], shares[roomy.pk]) == (7, 7)


def test_a_lead_per_study_site_counts_what_the_other_study_sites_handed_out(
    world: World, leaving: Membership
):
    both = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    at_a2 = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    at_a2.restricted_sites.set([world.site_a2])
    many_leads(study_site=world.study_site_a, owner=leaving, n=4)
    many_leads(study_site=world.study_site_a2, owner=leaving, n=4)

    plan = reassign_plan(from_owner=leaving)

    # study_site_a: the coordinator and `both`, 2 each; study_site_a2: `both` already has 2,
    # so `at_a2` catches up first. Everyone who could take more ends even.
    shares = {r.member.pk: r.leads for r in plan.recipients}
    assert shares == {world.coordinator.pk: 2, both.pk: 3, at_a2.pk: 3}


def test_when_every_coordinator_is_full_the_site_leads_take_the_leads(
    world: World, leaving: Membership
):
    Membership.objects.filter(pk=world.coordinator.pk).update(capacity=1)
    many_leads(study_site=world.study_site_a, owner=leaving, n=3)

    plan = reassign_plan(from_owner=leaving)

    assert {r.member.pk: r.leads for r in plan.recipients} == {
        world.coordinator.pk: 1,
        world.site_lead.pk: 2,
    }


# Undo --------------------------------------------------------------------------------------


def _reassigned(world: World, leaving: Membership, n: int = 3) -> tuple[BulkChange, list[Lead]]:
    leads = [new_lead(study_site=world.study_site_a, owner=leaving) for _ in range(n)]
    change = leads_reassign_all(from_owner=leaving, to_owner=world.admin, actor=actor_of(world))
    return change, leads


def _backdate(change: BulkChange, by: timedelta) -> None:
    change.created_at -= by
    BulkChange.objects.filter(pk=change.pk).update(created_at=change.created_at)


def test_undo_gives_each_lead_back_to_its_previous_owner_audited(world: World, leaving: Membership):
    change, leads = _reassigned(world, leaving)

    undone = bulk_change_undo(change=change, actor=actor_of(world, "admin"))

    assert (undone.restored, undone.changed_since, undone.owner_left) == (3, 0, 0)
    assert {fresh(lead).owner for lead in leads} == {leaving}
    assert {fresh(lead).version for lead in leads} == {3}
    restored = AuditEvent.objects.filter(action="lead.assigned", reason=f"Undo of {change.code}")
    assert restored.count() == 3
    assert restored.first().changes == {  # type: ignore[union-attr]
        "owner_id": {"old": world.admin.pk, "new": leaving.pk}
    }
    assert AuditEvent.objects.filter(action="bulk_change.undone", actor=world.admin.user)
    last = Activity.objects.filter(lead=leads[0], kind=ActivityKind.ASSIGNMENT).order_by("-id")[0]
    assert last.data["owner"] == str(leaving.code)
    change.refresh_from_db()
    assert (change.undone_by, change.restored) == (world.admin.user, 3)


def test_undo_leaves_leads_changed_since_and_leads_whose_owner_left(world: World):
    leaving = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    change, leads = _reassigned(world, leaving, n=3)
    lead_change_status(lead=leads[0], status="contacting", actor=actor_of(world, "admin"))
    again = new_lead(study_site=world.study_site_a, owner=world.coordinator)
    other = leads_reassign_all(
        from_owner=world.coordinator, to_owner=world.site_lead, actor=actor_of(world)
    )
    Membership.objects.filter(pk=world.coordinator.pk).update(is_active=False)

    undone = bulk_change_undo(change=change, actor=actor_of(world))
    left = bulk_change_undo(change=other, actor=actor_of(world))

    assert (undone.restored, undone.changed_since, undone.owner_left) == (2, 1, 0)
    assert fresh(leads[0]).owner == world.admin
    assert fresh(leads[0]).status == "contacting"
    assert (left.restored, left.owner_left) == (0, 1)
    assert fresh(again).owner == world.site_lead


def test_undo_is_refused_after_the_period_and_a_second_time(world: World, leaving: Membership):
    change, leads = _reassigned(world, leaving)
    client = signed_in(world.site_lead.user)
    url = reverse("team_undo", kwargs={"code": change.code})

    _backdate(change, BulkChange.UNDO_PERIOD + timedelta(minutes=1))
    late = client.post(url, follow=True)
    assert "can be undone for 7 days" in text(late)
    assert {fresh(lead).owner for lead in leads} == {world.admin}

    _backdate(change, -(BulkChange.UNDO_PERIOD + timedelta(minutes=1)))  # back within it
    done = client.post(url, follow=True)
    again = client.post(url, follow=True)

    assert "Gave 3 leads back to their previous owners." in text(done)
    assert "already undone" in text(again)
    assert AuditEvent.objects.filter(action="bulk_change.undone").count() == 1


def test_the_team_page_lists_recent_changes_with_undo_while_it_is_allowed(
    world: World, leaving: Membership
):
    change, _ = _reassigned(world, leaving)
    client = signed_in(world.site_lead.user)
    undo = reverse("team_undo", kwargs={"code": change.code})

    assert undo in text(client.get(reverse("team")))
    _backdate(change, timedelta(days=8))
    body = text(client.get(reverse("team")))
    assert undo not in body
    assert "can no longer be undone" in body


def test_undo_through_the_page_says_what_it_kept(world: World):
    leaving = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    change, leads = _reassigned(world, leaving, n=2)
    lead_change_status(lead=leads[0], status="contacting", actor=actor_of(world))

    response = signed_in(world.site_lead.user).post(
        reverse("team_undo", kwargs={"code": change.code}), follow=True
    )

    assert "Gave 1 leads back" in text(response)
    assert "1 were changed since the reassignment and keep their current owner." in text(response)


def test_another_organizations_change_is_a_404_and_stays(world: World, leaving: Membership):
    change, leads = _reassigned(world, leaving)

    response = signed_in(world.outsider.user).post(
        reverse("team_undo", kwargs={"code": change.code})
    )

    assert response.status_code == 404
    assert {fresh(lead).owner for lead in leads} == {world.admin}


def test_a_stale_fingerprint_raises_plan_changed(world: World, leaving: Membership):
    new_lead(study_site=world.study_site_a, owner=leaving)

    with pytest.raises(PlanChanged):
        leads_reassign_all(from_owner=leaving, actor=actor_of(world), expected="0:")
