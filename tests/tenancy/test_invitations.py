"""Inviting someone who already has an account: a pending invitation they accept or decline.

Until they accept, the invitation gives no access anywhere: not to the organization's pages,
not as an owner of its leads, not on its team.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import World, signed_in
from tests.factories import LeadFactory
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import members_who_see


@pytest.fixture
def invitation(world: World, django_capture_on_commit_callbacks) -> Membership:
    """Org A's admin invites org B's admin (who has an account) as a site lead."""
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.admin.user).post(
            "/settings/users/invite/",
            {"email": world.outsider.user.email, "role": Role.SITE_LEAD},
        )
    assert response.status_code == 302
    return Membership.objects.get(user=world.outsider.user, organization=world.org_a)


@pytest.fixture
def invited(world: World, invitation: Membership) -> Client:
    return signed_in(world.outsider.user)


def _in_org_a(client: Client, world: World) -> None:
    session = client.session
    session["organization"] = str(world.org_a.code)
    session.save()


# Pending ---------------------------------------------------------------------------------------


def test_the_invitation_is_pending_and_audited(world: World, invitation: Membership):
    assert (invitation.pending, invitation.is_active) == (True, False)
    event = AuditEvent.objects.get(action="membership.invited", object_id=str(invitation.code))
    assert event.actor == world.admin.user
    assert event.organization == world.org_a
    assert event.changes["pending"] == {"old": None, "new": True}


def test_a_pending_invitation_gives_no_access_to_the_organization(world: World, invited: Client):
    lead = LeadFactory(study_site=world.study_site_a)
    _in_org_a(invited, world)

    queue = invited.get("/queue/")

    # Still org B's admin: the session cannot point at an organization they have not joined.
    assert queue.context["active_membership"] == world.outsider
    assert invited.session["organization"] == str(world.org_b.code)
    assert invited.get(f"/leads/{lead.code}/").status_code == 404
    chooser = invited.post("/organizations/", {"code": str(world.org_a.code)})
    assert chooser.status_code == 200
    assert "Pick one of your organizations." in chooser.content.decode()
    assert invited.session["organization"] == str(world.org_b.code)


def test_a_pending_invitee_owns_no_leads_and_is_on_no_team(world: World, invitation: Membership):
    site_lead = signed_in(world.site_lead.user)
    lead = LeadFactory(study_site=world.study_site_a)

    assert invitation not in members_who_see(world.study_site_a)
    assert world.outsider.user.email not in site_lead.get("/team/").content.decode()
    queue = site_lead.get("/queue/")
    assert invitation not in queue.context["owners"]
    url = reverse("lead_action", kwargs={"code": lead.code, "action": "assign"})
    response = site_lead.post(url, {"owner": str(invitation.code), "version": lead.version})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner != invitation


def test_the_org_admin_cannot_skip_the_answer_by_reactivating(world: World, invitation: Membership):
    admin = signed_in(world.admin.user)

    response = admin.post(f"/settings/users/{invitation.code}/reactivate/", follow=True)

    assert "waits for its answer" in response.content.decode()
    invitation.refresh_from_db()
    assert (invitation.pending, invitation.is_active) == (True, False)


def test_the_users_list_shows_the_invitation_as_invited(world: World, invitation: Membership):
    admin = signed_in(world.admin.user)

    row = admin.get("/settings/").content.decode().split(world.outsider.user.email)[1]
    page = admin.get(f"/settings/users/{invitation.code}/").content.decode()

    assert row.split("</tr>")[0].rstrip().endswith("<td>Invited</td>")
    assert "Send the invitation again" in page
    assert "Reactivate" not in page


def test_resending_a_pending_invitation_sends_it_again(
    world: World, invitation: Membership, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.admin.user).post(f"/settings/users/{invitation.code}/resend/")

    assert [m.subject for m in mail.outbox] == ["You're invited to Org A on TrialsNest"] * 2


def test_inviting_them_twice_says_they_are_invited(world: World, invitation: Membership):
    response = signed_in(world.admin.user).post(
        "/settings/users/invite/", {"email": world.outsider.user.email, "role": Role.COORDINATOR}
    )

    assert "already invited" in response.content.decode()
    assert Membership.objects.filter(user=world.outsider.user).count() == 2


# Seeing and answering --------------------------------------------------------------------------


def test_the_invited_user_sees_the_invitation_on_the_organization_chooser(
    world: World, invitation: Membership, invited: Client
):
    elsewhere = invited.get("/settings/").content.decode()
    chooser = invited.get("/organizations/").content.decode()

    assert 'href="/organizations/">Accept or decline</a>' in elsewhere
    assert "<strong>Org A</strong> invited you to work with them as site lead." in chooser
    assert f'action="/organizations/invitations/{invitation.code}/accept/"' in chooser
    assert f'action="/organizations/invitations/{invitation.code}/decline/"' in chooser
    assert chooser.count('name="csrfmiddlewaretoken"') >= 2


def test_accepting_joins_the_organization_and_is_audited(
    world: World, invitation: Membership, invited: Client
):
    lead = LeadFactory(study_site=world.study_site_a)

    response = invited.post(f"/organizations/invitations/{invitation.code}/accept/", follow=True)

    assert "You joined Org A." in response.content.decode()
    invitation.refresh_from_db()
    assert (invitation.pending, invitation.is_active) == (False, True)
    assert invited.session["organization"] == str(world.org_a.code)
    assert invited.get(f"/leads/{lead.code}/").status_code == 200
    assert invitation in members_who_see(world.study_site_a)
    event = AuditEvent.objects.get(action="membership.invitation_accepted")
    assert (event.actor, event.organization) == (world.outsider.user, world.org_a)
    assert event.object_id == str(invitation.code)
    # Both organizations are theirs now: the chooser offers them.
    chooser = invited.get("/organizations/").content.decode()
    assert f'value="{world.org_a.code}"' in chooser
    assert f'value="{world.org_b.code}"' in chooser


def test_declining_removes_the_invitation_and_is_audited(
    world: World, invitation: Membership, invited: Client
):
    response = invited.post(f"/organizations/invitations/{invitation.code}/decline/", follow=True)

    assert "You declined the invitation to Org A." in response.content.decode()
    assert not Membership.objects.filter(pk=invitation.pk).exists()
    event = AuditEvent.objects.get(action="membership.invitation_declined")
    assert (event.actor, event.organization) == (world.outsider.user, world.org_a)
    assert event.object_id == str(invitation.code)
    assert "Accept or decline" not in invited.get("/settings/").content.decode()
    # The organization may invite them again later.
    again = signed_in(world.admin.user).post(
        "/settings/users/invite/", {"email": world.outsider.user.email, "role": Role.COORDINATOR}
    )
    assert again.status_code == 302


def test_an_invitation_is_answered_once(world: World, invitation: Membership, invited: Client):
    invited.post(f"/organizations/invitations/{invitation.code}/accept/")

    again = invited.post(f"/organizations/invitations/{invitation.code}/decline/")

    assert again.status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_active


def test_answering_needs_the_csrf_token(world: World, invitation: Membership):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.outsider.user)

    response = client.post(f"/organizations/invitations/{invitation.code}/accept/")

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.pending


def test_someone_else_cannot_answer_the_invitation(world: World, invitation: Membership):
    for user in (world.admin.user, world.coordinator.user):
        client = signed_in(user)
        assert client.post(f"/organizations/invitations/{invitation.code}/accept/").status_code == (
            404
        )
        assert client.post(
            f"/organizations/invitations/{invitation.code}/decline/"
        ).status_code == (404)
    invitation.refresh_from_db()
    assert invitation.pending


def test_someone_whose_only_way_in_is_an_invitation_stays_signed_in_to_answer_it(
    world: World, invitation: Membership
):
    Membership.objects.filter(pk=world.outsider.pk).update(is_active=False)
    client = signed_in(world.outsider.user)

    home = client.get("/")
    settings_page = client.get("/settings/")

    assert home["Location"] == "/organizations/"
    assert settings_page["Location"] == "/organizations/"
    chooser = client.get("/organizations/").content.decode()
    assert "<strong>Org A</strong> invited you" in chooser
    assert f'value="{world.org_b.code}"' not in chooser
    client.post(f"/organizations/invitations/{invitation.code}/accept/")
    assert client.get("/")["Location"] == "/dashboard/"
