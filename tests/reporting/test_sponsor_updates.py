"""Sponsor updates: the site lead drafts one from the sponsor's aggregates, patient detail in the
sentences is refused with the reason, a released update is a numbered version the sponsor's
viewer reads (and nobody else), with the figures of the day it was released."""

from __future__ import annotations

import html
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from leads.models import Person
from reporting.models import SponsorUpdate, UpdateStatus
from reporting.patient_detail import findings
from reporting.rollups import cohorts_rebuild
from reporting.suppression import HIDDEN
from reporting.updates import update_release, update_save
from tests.conftest import World, signed_in
from tests.factories import SponsorMembershipFactory, new_lead
from tests.reporting.helpers import spread_leads
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db
TEXT = {
    "moved": "Twenty-three people were reached this month, most from the radio campaign.",
    "stalled": "Records from one imaging provider take three weeks.",
    "decisions": "Can the protocol allow scans from the last 120 days?",
    "next_steps": "Two extra visit slots on Thursdays from 10 December.",
}


def _draft(world: World, **texts: str) -> SponsorUpdate:
    parts = {**TEXT, **texts}
    return update_save(
        study_site=world.study_site_a,
        actor=Actor(world.site_lead.user),
        moved=parts["moved"],
        stalled=parts["stalled"],
        decisions=parts["decisions"],
        next_steps=parts["next_steps"],
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Call her on (312) 555-0142 tomorrow.", "a phone number: (312) 555-0142"),
        ("Write to maria.lopez@example.com.", "an e-mail address: maria.lopez@example.com"),
        ("Born 03/14/1970, she qualifies.", "what may be a date of birth: 03/14/1970"),
        ("Seen on 1962-07-01.", "what may be a date of birth: 1962-07-01"),
        ("DOB March 14, 1970.", "what may be a date of birth: March 14, 1970"),
    ],
)
def test_patient_detail_is_found_with_its_reason(world: World, text: str, reason: str):
    assert reason in findings(text, organization_id=world.org_a.pk)


def test_a_persons_name_is_found_and_ordinary_words_are_not(world: World):
    lead = new_lead(study_site=world.study_site_a)
    Person.objects.filter(pk=lead.person_id).update(first_name="Ximena", last_name="Quiroga")
    assert findings("We spoke to ximena QUIROGA.", organization_id=world.org_a.pk) == [
        "a name: ximena QUIROGA"
    ]
    assert findings(TEXT["moved"], organization_id=world.org_a.pk) == []
    assert findings(TEXT["next_steps"], organization_id=world.org_a.pk) == []  # this year's date
    # Another organization's people are not this organization's to find.
    assert findings("ximena quiroga", organization_id=world.org_b.pk) == []


def test_a_member_of_the_organization_is_a_name_too(world: World):
    user = world.coordinator.user
    text = f"Ask {user.first_name} {user.last_name} about it."
    assert findings(text, organization_id=world.org_a.pk) == [
        f"a name: {user.first_name} {user.last_name}"
    ]


def test_the_site_lead_is_told_why_and_nothing_is_kept(world: World):
    site_lead = signed_in(world.site_lead.user)
    url = f"/study-sites/{world.study_site_a.code}/sponsor-updates/new/"
    page = site_lead.get(url)
    assert page.status_code == 200
    assert "The figures it will carry" in page.content.decode()
    refused = site_lead.post(url, {**TEXT, "stalled": "Waiting on 312-555-0199.", "save": "1"})
    assert refused.status_code == 200
    body = html.unescape(refused.content.decode())
    assert "Sponsors never see patient detail. Reword without a phone number: 312-555-0199." in body
    assert not SponsorUpdate.objects.exists()


def test_a_draft_is_saved_then_released_as_update_one_with_its_figures(world: World):
    now = timezone.now()
    spread_leads(study_site=world.study_site_a, owner=world.coordinator, n=40, now=now)
    cohorts_rebuild(now=now)
    site_lead = signed_in(world.site_lead.user)
    new = f"/study-sites/{world.study_site_a.code}/sponsor-updates/new/"
    saved = site_lead.post(new, {**TEXT, "save": "1"})
    draft = SponsorUpdate.objects.get()
    assert saved["Location"] == f"/sponsor-updates/{draft.code}/"
    assert (draft.status, draft.number, draft.figures) == (UpdateStatus.DRAFT, None, [])
    sponsor = signed_in(world.sponsor_viewer)
    assert sponsor.get(f"/reports/updates/{draft.code}/").status_code == 404  # not released

    released = site_lead.post(f"/sponsor-updates/{draft.code}/", {**TEXT, "release": "1"})
    assert released.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.number) == (UpdateStatus.RELEASED, 1)
    assert [t["title"] for t in draft.figures] == ["Funnel at this site", draft.figures[1]["title"]]
    cells = [c for t in draft.figures for _, row in t["rows"] for c in row]
    assert all(c == HIDDEN or c in ("—", "0") or c.endswith("%") or int(c) > 10 for c in cells)
    assert AuditEvent.objects.filter(action="sponsor_update.released").count() == 1

    page = sponsor.get(f"/reports/updates/{draft.code}/")
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert "Update 1:" in body
    assert TEXT["decisions"] in body
    report = sponsor.get(f"/reports/{world.study_site_a.study.code}/").content.decode()
    assert f'href="/reports/updates/{draft.code}/"' in report


def test_a_released_update_stays_as_it_was_released(world: World):
    update = update_release(update=_draft(world), actor=Actor(world.site_lead.user))
    with pytest.raises(ValidationError):
        update_save(
            study_site=world.study_site_a,
            actor=Actor(world.site_lead.user),
            update=update,
            moved="Changed",
        )
    site_lead = signed_in(world.site_lead.user)
    site_lead.post(f"/sponsor-updates/{update.code}/", {**TEXT, "moved": "Changed"})
    update.refresh_from_db()
    assert update.moved == TEXT["moved"]
    second = update_release(update=_draft(world), actor=Actor(world.site_lead.user))
    assert second.number == 2


def test_an_empty_update_cannot_be_released(world: World):
    draft = _draft(world, moved="", stalled="", decisions="", next_steps="")
    with pytest.raises(ValidationError, match="Write at least one part"):
        update_release(update=draft, actor=Actor(world.site_lead.user))


def test_only_the_viewers_it_was_shared_with_read_it(world: World):
    update = update_release(update=_draft(world), actor=Actor(world.site_lead.user))
    url = f"/reports/updates/{update.code}/"
    assert signed_in(world.sponsor_viewer).get(url).status_code == 200
    # A viewer of the same sponsor whom this StudySite was not shared with.
    other = SponsorMembershipFactory(sponsor=world.study_site_a.study.sponsor).user
    assert signed_in(other).get(url).status_code == 404
    assert signed_in(world.outsider.user).get(f"/sponsor-updates/{update.code}/").status_code == 404
    assert Client().get(url).status_code == 302  # to sign in


def test_a_draft_with_a_canary_in_it_never_reaches_a_sponsor(world: World):
    lead = new_lead(study_site=world.study_site_a)
    Person.objects.filter(pk=lead.person_id).update(
        first_name="Canaria",
        last_name="Zzyzx",
        phone="+13125550177",
        date_of_birth=date(1961, 2, 3),
    )
    for text in ("Canaria Zzyzx agreed.", "Call +1 312 555 0177.", "DOB 1961-02-03."):
        with pytest.raises(ValidationError):
            _draft(world, moved=text)
    update = update_release(update=_draft(world), actor=Actor(world.site_lead.user))
    body = signed_in(world.sponsor_viewer).get(f"/reports/updates/{update.code}/").content
    for canary in (b"Canaria", b"Zzyzx", b"5550177", b"1961"):
        assert canary not in body


def test_a_sites_figures_hide_what_the_viewers_report_hides(world: World):
    """Site A with 15 leads and site A2 with 3, both shared with the viewer: their report shows
    the total (18) and hides both sites (A2 is small; A would give A2 away). The update of A
    must not show A's 15 either."""
    from guardian.shortcuts import assign_perm

    from tests.factories import many_leads

    now = timezone.now()
    many_leads(study_site=world.study_site_a, owner=world.coordinator, n=15)
    world.study_site_a2.study = world.study_site_a.study
    world.study_site_a2.save()
    many_leads(study_site=world.study_site_a2, owner=world.site_lead, n=3)
    assign_perm("studies.view_studysite_reports", world.sponsor_viewer, world.study_site_a2)
    cohorts_rebuild(now=now)
    report = signed_in(world.sponsor_viewer).get(f"/reports/{world.study_site_a.study.code}/")
    body = html.unescape(report.content.decode())
    assert "<td>18</td>" in body  # the all-sites total of received
    update = update_release(update=_draft(world), actor=Actor(world.site_lead.user))
    funnel = update.figures[0]
    assert funnel["title"] == "Funnel at this site"
    [(label, cells)] = funnel["rows"]
    assert label == world.study_site_a.site.name
    assert cells[0] == HIDDEN  # received: 15, hidden as it is in the viewer's report
    page = signed_in(world.sponsor_viewer).get(f"/reports/updates/{update.code}/")
    assert "<td>15</td>" not in page.content.decode()


def test_a_refused_release_of_a_new_update_keeps_no_draft(world: World):
    site_lead = signed_in(world.site_lead.user)
    url = f"/study-sites/{world.study_site_a.code}/sponsor-updates/new/"
    empty = dict.fromkeys(TEXT, "")
    refused = site_lead.post(url, {**empty, "release": "1"})
    assert refused.status_code == 200
    assert "Write at least one part of the update" in html.unescape(refused.content.decode())
    assert not SponsorUpdate.objects.exists()  # a second try from the same page makes one
