"""Undo of a reassignment gives a lead back only to a previous owner who may still hold it: an
active member with access to the lead's StudySite. The others stay with their current owner,
and the page says how many and why."""

from __future__ import annotations

import html
from typing import Any

from django.urls import reverse

from leads.services import bulk_change_undo, leads_reassign_all
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, new_lead
from tests.leads.conftest import actor_of, fresh
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Membership, Role


def text(response: Any) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def test_leads_whose_previous_owner_lost_access_to_their_study_site_stay(world: World):
    leaving = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    at_a = [new_lead(study_site=world.study_site_a, owner=leaving) for _ in range(2)]
    at_a2 = [new_lead(study_site=world.study_site_a2, owner=leaving) for _ in range(3)]
    change = leads_reassign_all(from_owner=leaving, to_owner=world.admin, actor=actor_of(world))
    # Since then, the coordinator was restricted to the other StudySite.
    leaving.restricted_study_sites.set([world.study_site_a2])

    response = signed_in(world.site_lead.user).post(
        reverse("team_undo", kwargs={"code": change.code}), follow=True
    )

    body = text(response)
    assert "Gave 3 leads back to their previous owners." in body
    assert (
        "2 keep their current owner: the previous one no longer has access to their study at "
        "that site." in body
    )
    assert "were changed since" not in body
    assert {fresh(lead).owner for lead in at_a2} == {leaving}
    assert {fresh(lead).owner for lead in at_a} == {world.admin}
    assert {fresh(lead).version for lead in at_a} == {2}  # untouched by the undo
    audit = AuditEvent.objects.filter(action="lead.assigned", reason=f"Undo of {change.code}")
    assert set(audit.values_list("object_id", flat=True)) == {str(lead.code) for lead in at_a2}


def test_undo_counts_an_owner_who_left_apart_from_one_who_lost_access(world: World):
    gone = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    moved = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    new_lead(study_site=world.study_site_a, owner=gone)
    new_lead(study_site=world.study_site_a, owner=moved)
    new_lead(study_site=world.study_site_a2, owner=moved)
    first = leads_reassign_all(from_owner=gone, to_owner=world.admin, actor=actor_of(world))
    second = leads_reassign_all(from_owner=moved, to_owner=world.admin, actor=actor_of(world))
    Membership.objects.filter(pk=gone.pk).update(is_active=False)
    moved.restricted_sites.set([world.site_a2])  # study_site_a2 is at site_a2

    left = bulk_change_undo(change=first, actor=actor_of(world))
    lost = bulk_change_undo(change=second, actor=actor_of(world))

    assert (left.restored, left.owner_left, left.no_access, left.changed_since) == (0, 1, 0, 0)
    assert (lost.restored, lost.owner_left, lost.no_access, lost.changed_since) == (1, 0, 1, 0)
