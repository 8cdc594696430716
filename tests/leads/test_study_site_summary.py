"""Site leads write the Spanish lay summary of the StudySites they lead, from the Team page;
nobody else can (a site lead of another site, a coordinator, an outsider, a sponsor)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.conftest import World, signed_in
from tests.factories import MembershipFactory
from trialsnest.audit.models import AuditEvent
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Role


def _url(study_site: StudySite) -> str:
    return reverse("study_site_summary_es", kwargs={"code": study_site.code})


def _summary(study_site: StudySite) -> str:
    return StudySite.objects.get(pk=study_site.pk).lay_summary_es


def test_a_site_lead_writes_the_spanish_summary_shown_on_the_spanish_page(
    world: World, visitor: Client
):
    lead = MembershipFactory(organization=world.org_a, role=Role.SITE_LEAD)
    lead.restricted_sites.set([world.site_a])
    client = signed_in(lead.user)

    team = client.get(reverse("team")).content.decode()
    form = client.get(_url(world.study_site_a))
    saved = client.post(_url(world.study_site_a), {"lay_summary_es": "Un estudio para adultos."})

    assert _url(world.study_site_a) in team
    assert _url(world.study_site_a2) not in team  # not a StudySite they lead
    assert 'name="lay_summary_es"' in form.content.decode()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("team")
    assert _summary(world.study_site_a) == "Un estudio para adultos."
    audit = AuditEvent.objects.get(action="study_site.updated", actor=lead.user)
    assert audit.changes["lay_summary_es"]["new"] == "Un estudio para adultos."
    page = visitor.get(f"/es/studies/{world.study_site_a.study.code}/").content.decode()
    assert "Un estudio para adultos." in page


def test_a_too_long_spanish_summary_is_refused_with_a_message(world: World):
    client = signed_in(world.site_lead.user)

    refused = client.post(_url(world.study_site_a), {"lay_summary_es": "x" * 5001})

    assert refused.status_code == 200
    assert "Shorten this to 5000 characters" in refused.content.decode()
    assert _summary(world.study_site_a) == ""


def test_a_site_lead_of_another_site_cannot_write_it(world: World):
    other = MembershipFactory(organization=world.org_a, role=Role.SITE_LEAD)
    other.restricted_sites.set([world.site_a2])
    client = signed_in(other.user)

    assert client.get(_url(world.study_site_a)).status_code == 404
    assert client.post(_url(world.study_site_a), {"lay_summary_es": "No."}).status_code == 404
    assert _summary(world.study_site_a) == ""


def test_a_coordinator_an_outsider_and_a_sponsor_cannot_write_it(world: World):
    for user, status in (
        (world.coordinator.user, 403),
        (world.outsider.user, 404),
        (world.sponsor_viewer, 404),  # staff pages do not exist for a sponsor
    ):
        client = signed_in(user)
        assert client.get(_url(world.study_site_a)).status_code == status, user
        response = client.post(_url(world.study_site_a), {"lay_summary_es": "No."})
        assert response.status_code == status, user
    assert _summary(world.study_site_a) == ""
    assert not AuditEvent.objects.filter(action="study_site.updated").exists()
