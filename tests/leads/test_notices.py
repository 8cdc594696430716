"""The owner's bell hears of a lead reassigned to them by someone else, once; a bulk change is
one notice per new owner, and so is its undo.
(Replies: tests/leads/outreach/test_reply_notices.py.)"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads.services import lead_assign, leads_assign_many
from leads.services.bulk_undo import bulk_change_undo
from tests.conftest import World
from tests.factories import MembershipFactory, new_lead
from tests.leads.conftest import actor_of
from tests.leads.test_bulk import _selected
from trialsnest.notifications.models import Kind, Notification
from trialsnest.tenancy.models import Role

pytestmark = pytest.mark.django_db


def _notices(member) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=member).order_by("id").values_list("kind", "reason")
    )


def test_a_lead_reassigned_to_someone_tells_them_once(world: World):
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)

    lead_assign(lead=lead, owner=world.site_lead, actor=actor_of(world, "coordinator"))
    lead_assign(lead=lead, owner=world.site_lead, actor=actor_of(world, "coordinator"))  # no move

    assert _notices(world.site_lead) == [(Kind.REASSIGNED, "A lead was reassigned to you")]
    assert Notification.objects.get(recipient=world.site_lead).lead_code == lead.code


def test_taking_a_lead_oneself_is_not_news(world: World):
    lead = new_lead(study_site=world.study_site_a, owner=world.coordinator)

    lead_assign(lead=lead, owner=world.site_lead, actor=actor_of(world, "site_lead"))

    assert _notices(world.site_lead) == []


def test_a_bulk_reassignment_is_one_notice_per_new_owner(world: World):
    other = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    leads = _selected([new_lead(study_site=world.study_site_a, owner=other) for _ in range(3)])

    leads_assign_many(leads=leads, owner=world.coordinator, actor=actor_of(world, "site_lead"))

    assert _notices(world.coordinator) == [(Kind.REASSIGNED, "3 leads were reassigned to you")]
    assert Notification.objects.get(recipient=world.coordinator).lead_code is None


def test_undoing_a_bulk_reassignment_tells_each_owner_who_gets_leads_back_once(world: World):
    other = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    leads = _selected([new_lead(study_site=world.study_site_a, owner=other) for _ in range(2)])
    result = leads_assign_many(
        leads=leads, owner=world.coordinator, actor=actor_of(world, "site_lead")
    )
    change = result.change
    assert change is not None

    bulk_change_undo(change=change, actor=actor_of(world, "site_lead"))
    with pytest.raises(ValidationError):
        bulk_change_undo(change=change, actor=actor_of(world, "site_lead"))

    assert _notices(other) == [
        (Kind.REASSIGNED, "2 leads were given back to you (a reassignment was undone)")
    ]
    assert _notices(world.coordinator) == [(Kind.REASSIGNED, "2 leads were reassigned to you")]
