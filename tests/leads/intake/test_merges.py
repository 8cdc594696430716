"""Merging two records of one person: asked first, recorded, undoable for MERGE_UNDO_DAYS."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.intake import duplicates, merges
from leads.models import (
    Activity,
    Lead,
    OptOut,
    Person,
    PersonMerge,
    Status,
    SuspectedDuplicate,
)
from leads.services import lead_add_note, person_record_opt_out
from tests.conftest import World, signed_in
from tests.factories import PersonFactory, SuspectedDuplicateFactory, new_lead
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

DOB = datetime.date(1961, 4, 12)
CHOICES = {"first_name": "other", "last_name": "keep", "email": "other"}


@dataclass
class Twins:
    keep: Person
    other: Person
    kept_lead: Lead
    duplicate_lead: Lead  # the other's open lead at the kept person's StudySite
    moved_lead: Lead
    opt_out: OptOut
    about_other: SuspectedDuplicate  # other ~ a third person: moves to the kept person
    between: SuspectedDuplicate  # other ~ keep: resolved by the merge


def _twins(world: World) -> Twins:
    actor = Actor(user=world.site_lead.user)
    keep = PersonFactory(organization=world.org_a, first_name="Maria", last_name="Gonzalez",
                         date_of_birth=DOB, email="maria@example.com")  # fmt: skip
    other = PersonFactory(organization=world.org_a, first_name="María", last_name="Gonzales",
                          date_of_birth=DOB, email="mg61@example.org")  # fmt: skip
    kept_lead = new_lead(person=keep, study_site=world.study_site_a)
    duplicate_lead = new_lead(person=other, study_site=world.study_site_a)
    moved_lead = new_lead(person=other, study_site=world.study_site_a2)
    lead_add_note(lead=moved_lead, text="Asked about parking", actor=actor)
    opt_out = person_record_opt_out(person=other, channel="sms", actor=actor, evidence="STOP")
    third = PersonFactory(organization=world.org_a, first_name="Rosa", phone=other.phone)
    about_other = SuspectedDuplicateFactory(person=third, matched=other)
    between = SuspectedDuplicateFactory(person=other, matched=keep)
    return Twins(keep, other, kept_lead, duplicate_lead, moved_lead, opt_out, about_other,
                 between)  # fmt: skip


def _url(twins: Twins) -> str:
    return reverse("person_merge", kwargs={"code": twins.keep.code, "other": twins.other.code})


def _seen(page) -> str:
    found = re.search(r'name="seen" value="([0-9a-f]+)"', page.content.decode())
    assert found, "the confirmation carries what it showed"
    return found.group(1)


def _merge(world: World, twins: Twins) -> PersonMerge:
    client = signed_in(world.site_lead.user)
    summary = client.post(_url(twins), CHOICES)
    response = client.post(_url(twins), {**CHOICES, "confirm": "yes", "seen": _seen(summary)})
    assert response.status_code == 302, response.content.decode()[:500]
    return PersonMerge.objects.get()


def _search(world: World, text: str) -> set[str]:
    """The codes of the leads the staff search finds for `text`."""
    response = signed_in(world.admin.user).get(reverse("queue_search"), {"q": text})
    return {str(lead.code) for lead, _ in response.context["results"]}


def test_a_merge_shows_what_will_move_and_does_nothing_without_confirm(world: World):
    twins = _twins(world)

    page = signed_in(world.site_lead.user).post(_url(twins), CHOICES)

    body = page.content.decode()
    assert page.status_code == 200
    assert "Confirm the merge" in body
    assert twins.moved_lead.study_site.site.name in body
    assert "closes as a duplicate" in body
    assert "SMS since" in body
    assert "“STOP”" in body
    assert "María" in body  # the values that change
    assert "mg61@example.org" in body
    assert "Consent to text messages" in body  # the kept record loses it: the other opted out
    twins.other.refresh_from_db()
    assert twins.other.merged_into_id is None
    assert set(Lead.objects.filter(person=twins.other)) == {twins.duplicate_lead, twins.moved_lead}
    assert not PersonMerge.objects.exists()
    assert not AuditEvent.objects.filter(action="person.merged").exists()


def test_a_confirmed_merge_moves_everything_deletes_nothing_and_records_what_moved(world: World):
    twins = _twins(world)
    activities_before = Activity.objects.count()

    merge = _merge(world, twins)

    keep, other = (Person.objects.get(pk=p.pk) for p in (twins.keep, twins.other))
    assert (keep.first_name, keep.last_name, keep.email) == ("María", "Gonzalez", other.email)
    assert keep.consent_sms is False
    assert other.merged_into == keep
    assert set(Lead.objects.filter(person=keep)) == {
        twins.kept_lead, twins.duplicate_lead, twins.moved_lead
    }  # fmt: skip
    assert Lead.objects.get(pk=twins.duplicate_lead.pk).status == Status.CLOSED
    assert OptOut.objects.get().person == keep
    assert Activity.objects.filter(lead=twins.moved_lead, text="Asked about parking").exists()
    assert Activity.objects.count() > activities_before
    assert (merge.kept, merge.merged, merge.merged_by) == (keep, other, world.site_lead.user)
    assert sorted(merge.lead_ids) == sorted([twins.duplicate_lead.pk, twins.moved_lead.pk])
    assert merge.closed_lead_ids == [twins.duplicate_lead.pk]
    assert merge.opt_out_ids == [twins.opt_out.pk]
    assert merge.changed == {
        "first_name": {"old": "Maria", "new": "María"},
        "email": {"old": "maria@example.com", "new": "mg61@example.org"},
        "consent_sms": {"old": True, "new": False},
    }
    assert merge.suspicion_ids == [twins.about_other.pk]
    assert merge.resolved_suspicion_ids == [twins.between.pk]
    twins.about_other.refresh_from_db()
    twins.between.refresh_from_db()
    assert twins.about_other.matched == keep
    assert twins.between.resolution == SuspectedDuplicate.Resolution.MERGED
    event = AuditEvent.objects.get(action="person.merged")
    assert event.changes["merge"]["new"] == str(merge.code)
    assert event.changes["first_name"] == {"phi": True}  # named, never copied
    assert "maria@example.com" not in str(event.changes)
    assert AuditEvent.objects.filter(action="lead.person_merged",
                                     object_id=str(twins.moved_lead.code)).exists()  # fmt: skip
    assert duplicates.suspected_pairs(world.org_a.pk) == []


def test_a_merge_confirmed_on_a_summary_that_no_longer_holds_does_nothing(world: World):
    twins = _twins(world)
    client = signed_in(world.site_lead.user)
    seen = _seen(client.post(_url(twins), CHOICES))
    person_record_opt_out(person=twins.other, channel="phone", actor=Actor(world.admin.user))

    page = client.post(_url(twins), {**CHOICES, "confirm": "yes", "seen": seen})

    assert page.status_code == 200
    assert "changed since the summary was shown" in page.content.decode()
    assert not PersonMerge.objects.exists()
    twins.other.refresh_from_db()
    assert twins.other.merged_into_id is None


def test_a_confirm_without_the_summary_it_confirms_does_nothing(world: World):
    twins = _twins(world)

    page = signed_in(world.site_lead.user).post(_url(twins), {**CHOICES, "confirm": "yes"})

    assert page.status_code == 200
    assert not PersonMerge.objects.exists()


def test_undo_puts_back_every_lead_opt_out_suspicion_and_value(world: World):
    twins = _twins(world)
    merge = _merge(world, twins)
    client = signed_in(world.admin.user)
    undo = reverse("person_merge_undo", kwargs={"code": merge.code})

    summary = client.get(undo)
    assert "What undoing puts back" in summary.content.decode()
    assert "maria@example.com" in summary.content.decode()
    assert client.post(undo).status_code == 200  # no confirm: only the summary again
    assert PersonMerge.objects.get().undone_at is None

    response = client.post(undo, {"confirm": "yes"}, follow=True)

    assert "The merge was undone" in response.content.decode()
    keep, other = (Person.objects.get(pk=p.pk) for p in (twins.keep, twins.other))
    assert (keep.first_name, keep.email, keep.consent_sms) == ("Maria", "maria@example.com", True)
    assert (other.first_name, other.email) == ("María", "mg61@example.org")
    assert other.merged_into_id is None
    assert set(Lead.objects.filter(person=keep)) == {twins.kept_lead}
    assert set(Lead.objects.filter(person=other)) == {twins.duplicate_lead, twins.moved_lead}
    reopened = Lead.objects.get(pk=twins.duplicate_lead.pk)
    assert reopened.status == Status.CONTACTING
    assert "merge" in reopened.activities.filter(kind="status_change")[0].text
    assert OptOut.objects.get().person == other
    twins.about_other.refresh_from_db()
    twins.between.refresh_from_db()
    assert twins.about_other.matched == other
    assert (twins.between.resolved_at, twins.between.resolution) == (None, "")
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert merge.undone_by == world.admin.user
    event = AuditEvent.objects.get(action="person.merge_undone")
    assert event.actor == world.admin.user
    assert event.changes["email"] == {"phi": True}
    assert event.changes["leads_moved_back"]["new"] == 2
    assert AuditEvent.objects.filter(action="lead.person_unmerged").count() == 2
    assert twins.moved_lead.activities.filter(text__contains="undone").exists()
    # Undone once: the page offers it no more, and a second undo is refused.
    assert "Undo…" not in client.get(reverse("duplicate_list")).content.decode()
    client.post(undo, {"confirm": "yes"})
    assert AuditEvent.objects.filter(action="person.merge_undone").count() == 1


def test_undo_is_refused_after_the_undo_period_with_a_clear_message(world: World):
    twins = _twins(world)
    merge = _merge(world, twins)
    PersonMerge.objects.filter(pk=merge.pk).update(
        merged_at=timezone.now() - datetime.timedelta(days=31)
    )
    client = signed_in(world.site_lead.user)
    undo = reverse("person_merge_undo", kwargs={"code": merge.code})

    assert "can no longer be undone" in client.get(undo).content.decode()
    response = client.post(undo, {"confirm": "yes"}, follow=True)

    body = response.content.decode()
    assert "This merge can no longer be undone: a merge can be undone for 30 days" in body
    assert "Can no longer be undone" in body  # the recent merges list says so too
    merge.refresh_from_db()
    assert merge.undone_at is None
    twins.other.refresh_from_db()
    assert twins.other.merged_into == twins.keep
    assert not AuditEvent.objects.filter(action="person.merge_undone").exists()


def test_the_undo_period_is_a_setting(world: World, settings):
    settings.MERGE_UNDO_DAYS = 7
    twins = _twins(world)
    merge = _merge(world, twins)
    eight_days_later = merge.merged_at + datetime.timedelta(days=8)

    with pytest.raises(Exception, match="undone for 7 days"):
        merges.person_merge_undo(
            merge=merge, actor=Actor(user=world.admin.user), now=eight_days_later
        )
    merges.person_merge_undo(
        merge=merge,
        actor=Actor(user=world.admin.user),
        now=merge.merged_at + datetime.timedelta(days=6),
    )
    assert PersonMerge.objects.get().undone_at is not None


def test_undo_leaves_values_changed_since_and_keeps_an_opt_out_given_while_merged(world: World):
    twins = _twins(world)
    merge = _merge(world, twins)
    Person.objects.filter(pk=twins.keep.pk).update(first_name="Mariá")  # corrected since
    keep = Person.objects.get(pk=twins.keep.pk)
    person_record_opt_out(person=keep, channel="email", actor=Actor(world.site_lead.user),
                          evidence="Please stop e-mailing")  # fmt: skip

    left = merges.person_merge_undo(merge=merge, actor=Actor(user=world.admin.user))

    keep.refresh_from_db()
    other = Person.objects.get(pk=twins.other.pk)
    assert left == ["first_name"]
    assert keep.first_name == "Mariá"
    assert keep.email == "maria@example.com"
    # Either of the two may have said stop while they were one record: both keep it.
    assert keep.consent_email is False
    assert other.consent_email is False
    assert OptOut.objects.filter(person=other, channel="email").exists()
    assert OptOut.objects.filter(person=keep, channel="email").exists()


def test_undo_of_a_merge_whose_kept_person_was_merged_again_waits_for_that_one(world: World):
    twins = _twins(world)
    first = _merge(world, twins)
    third = PersonFactory(organization=world.org_a, first_name="Maria", last_name="Gonzalez")
    second = merges.person_merge(
        keep=third, other=twins.keep, values={}, actor=Actor(user=world.site_lead.user)
    )
    twins.other.refresh_from_db()
    assert twins.other.merged_into == third  # one hop: a merged record points at a live one

    with pytest.raises(Exception, match="undo that merge first"):
        merges.person_merge_undo(merge=first, actor=Actor(user=world.admin.user))
    merges.person_merge_undo(merge=second, actor=Actor(user=world.admin.user))
    twins.other.refresh_from_db()
    assert twins.other.merged_into == twins.keep
    merges.person_merge_undo(merge=first, actor=Actor(user=world.admin.user))
    twins.other.refresh_from_db()
    assert twins.other.merged_into is None


def test_two_open_leads_for_one_study_after_a_merge_leave_one_open(world: World):
    twins = _twins(world)

    merges.person_merge(keep=twins.keep, other=twins.other, values={},
                        actor=Actor(user=world.site_lead.user))  # fmt: skip

    first, second = (Lead.objects.get(pk=x.pk) for x in (twins.kept_lead, twins.duplicate_lead))
    assert first.status == Status.NEW
    assert second.status == Status.CLOSED
    assert second.close_reason == "duplicate"
    assert str(first.code) in second.activities.get(kind="status_change").text


def test_search_finds_the_kept_persons_leads_by_what_only_the_merged_record_had(world: World):
    twins = _twins(world)
    old_email = twins.keep.email
    merge = _merge(world, twins)
    kept_leads = {str(x.code) for x in (twins.kept_lead, twins.duplicate_lead, twins.moved_lead)}

    for text in (twins.other.phone, "mg61@example.org", "Gonzales", "maría gonzales",
                 old_email):  # fmt: skip
        assert _search(world, text) == kept_leads, text

    merges.person_merge_undo(merge=merge, actor=Actor(user=world.admin.user))
    assert _search(world, twins.other.phone) == {
        str(twins.duplicate_lead.code), str(twins.moved_lead.code)
    }  # fmt: skip
    assert _search(world, old_email) == {str(twins.kept_lead.code)}


def test_another_organizations_merge_is_a_404_and_coordinators_may_not_merge(world: World):
    twins = _twins(world)
    merge = _merge(world, twins)
    outsider = signed_in(world.outsider.user)
    undo = reverse("person_merge_undo", kwargs={"code": merge.code})

    for url in (undo, _url(twins)):
        assert outsider.get(url).status_code == 404
        assert outsider.post(url, {"confirm": "yes"}).status_code == 404
        assert signed_in(world.coordinator.user).post(url, {"confirm": "yes"}).status_code == 403
    merge.refresh_from_db()
    assert merge.undone_at is None
    assert "Gonzalez" not in outsider.get(reverse("duplicate_list")).content.decode()
