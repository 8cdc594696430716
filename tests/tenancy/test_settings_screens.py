"""The org admin's settings screens: people, sites, studies at sites, sharing, navigation."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from tests.conftest import World, signed_in
from tests.factories import (
    MembershipFactory,
    SponsorMembershipFactory,
    StudyFactory,
    UserFactory,
)
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Role, Site
from trialsnest.tenancy.selectors import visible_study_sites
from trialsnest.tenancy.services import membership_set_active, study_site_update


@pytest.fixture
def admin(world: World) -> Client:
    return signed_in(world.admin.user)


def _field_errors(response: Any, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def _error_next_to(response: Any, field: str) -> str:
    """The text of the error block rendered under `field` (see templates/_form.html)."""
    match = re.search(
        rf'<div class="errors" id="id_{field}_error">(.*?)</div>', response.content.decode(), re.S
    )
    assert match, f"no error shown next to {field}"
    return match.group(1)


def _site_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "name": "A East",
        "timezone": "America/Chicago",
        "opens_at": "08:00",
        "closes_at": "18:00",
        "business_days": ["1", "2", "3", "4", "5"],
        "address": "1 Lake St",
        "city": "Chicago",
        "state": "Illinois",
        "postal_code": "60601",
        "country": "United States",
    }
    form.update(overrides)
    return form


def _nav_links(response: Any) -> list[str]:
    match = re.search(r'<nav aria-label="Main">(.*?)</nav>', response.content.decode(), re.S)
    return re.findall(r'href="([^"]+)"', match.group(1)) if match else []


# Invitations ----------------------------------------------------------------------------------


def test_the_invite_form_offers_only_this_organizations_sites_and_studies(
    world: World, admin: Client
):
    form = admin.get("/settings/users/invite/").context["form"]

    assert set(form.fields["sites"].queryset) == {world.site_a, world.site_a2}
    assert set(form.fields["study_sites"].queryset) == {world.study_site_a, world.study_site_a2}


def test_it_invites_a_coordinator_restricted_to_a_site(
    world: World, admin: Client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/settings/users/invite/",
            {
                "email": "casey@example.com",
                "first_name": "Casey",
                "role": Role.COORDINATOR,
                "sites": [world.site_a2.pk],
            },
            follow=True,
        )

    assert "Invitation sent to casey@example.com." in response.content.decode()
    membership = Membership.objects.get(user__email="casey@example.com")
    assert membership.organization == world.org_a
    assert membership.role == Role.COORDINATOR
    assert list(membership.restricted_sites.all()) == [world.site_a2]
    assert not membership.user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["casey@example.com"]]
    # The list shows them as invited until they choose a password.
    assert "Invited" in admin.get("/settings/").content.decode()


def test_the_invite_form_shows_errors_next_to_the_fields(world: World, admin: Client):
    response = admin.post("/settings/users/invite/", {"email": "not-an-address", "role": "boss"})

    assert response.status_code == 200
    assert "valid email address" in _error_next_to(response, "email")
    assert "not one of the available choices" in _error_next_to(response, "role")
    assert not Membership.objects.filter(user__email="not-an-address").exists()


def test_the_invite_form_refuses_another_organizations_site(world: World, admin: Client):
    response = admin.post(
        "/settings/users/invite/",
        {"email": "x@example.com", "role": Role.COORDINATOR, "sites": [world.site_b.pk]},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in _error_next_to(response, "sites")
    assert not Membership.objects.filter(user__email="x@example.com").exists()


def test_it_refuses_to_invite_an_existing_member_with_a_clear_message(world: World, admin: Client):
    email = world.coordinator.user.email.upper()

    response = admin.post("/settings/users/invite/", {"email": email, "role": Role.SITE_LEAD})

    assert response.status_code == 200
    assert "already a member of the organization" in _error_next_to(response, "email")
    assert Membership.objects.filter(user=world.coordinator.user).count() == 1
    world.coordinator.refresh_from_db()
    assert world.coordinator.role == Role.COORDINATOR


def test_inviting_a_sponsor_viewer_answers_like_any_invitation_and_sends_a_neutral_notice(
    world: World, admin: Client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/settings/users/invite/",
            {"email": world.sponsor_viewer.email, "role": Role.COORDINATOR},
            follow=True,
        )

    page = response.content.decode()
    assert response.redirect_chain == [("/settings/", 302)]
    assert f"Invitation sent to {world.sponsor_viewer.email}." in page
    # Nothing on the page says the address is a sponsor viewer's (the page's two-factor setting
    # names sponsor viewers in general: that fixed form is left out of the search).
    told = re.sub(
        r'<form method="post" action="/settings/two-factor/".*?</form>', "", page, flags=re.S
    )
    assert "sponsor" not in told.lower()
    assert not Membership.objects.filter(user=world.sponsor_viewer).exists()
    (notice,) = mail.outbox
    assert notice.to == [world.sponsor_viewer.email]
    assert notice.subject == "About an invitation to Org A on TrialsNest"
    assert "nothing was changed" in notice.body
    assert "/accounts/" not in notice.body
    assert "/organizations/" not in notice.body


def test_the_form_answers_a_sponsor_viewers_address_as_it_answers_a_new_one(
    world: World, admin: Client
):
    def answer(email: str) -> tuple[int, str, list[str]]:
        response = admin.post("/settings/users/invite/", {"email": email, "role": Role.COORDINATOR})
        shown = [
            str(m).replace(email, "EMAIL")
            for m in admin.get("/settings/users/invite/").context["messages"]
        ]
        return response.status_code, response["Location"], shown

    sponsor_viewer = answer(world.sponsor_viewer.email)

    assert sponsor_viewer == answer("somebody.new@example.com")
    assert sponsor_viewer == (302, "/settings/", ["Invitation sent to EMAIL."])


def test_it_invites_a_member_of_another_organization_without_touching_their_membership(
    world: World, admin: Client
):
    response = admin.post(
        "/settings/users/invite/",
        {"email": world.outsider.user.email, "role": Role.SITE_LEAD},
    )

    assert response.status_code == 302
    invitation = Membership.objects.get(user=world.outsider.user, organization=world.org_a)
    assert invitation.role == Role.SITE_LEAD
    assert (invitation.pending, invitation.is_active) == (True, False)
    world.outsider.refresh_from_db()
    assert world.outsider.role == Role.ORG_ADMIN
    assert world.outsider.is_active


def test_someone_with_an_account_is_told_they_were_invited_and_where_to_accept(
    world: World, admin: Client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/settings/users/invite/",
            {"email": world.outsider.user.email, "role": Role.COORDINATOR},
        )

    (message,) = mail.outbox
    assert message.to == [world.outsider.user.email]
    assert message.subject == "You're invited to Org A on TrialsNest"
    assert "invited to work in Org A" in message.body
    assert "accept or decline the invitation here:\nhttp://testserver/organizations/" in (
        message.body
    )
    assert "/accounts/welcome/" not in message.body
    assert "You now have access" not in message.body
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert 'href="http://testserver/organizations/"' in html


def test_resending_an_invitation_sends_a_new_email(
    world: World, admin: Client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/settings/users/invite/", {"email": "late@example.com", "role": "coordinator"})
    invited = Membership.objects.get(user__email="late@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/settings/users/{invited.code}/resend/", follow=True)

    assert "Invitation sent again to late@example.com." in response.content.decode()
    assert len(mail.outbox) == 2


def test_resending_is_refused_once_a_password_is_set(world: World, admin: Client):
    response = admin.post(f"/settings/users/{world.coordinator.code}/resend/", follow=True)

    assert "already set a password" in response.content.decode()
    assert mail.outbox == []


# Role and restrictions ------------------------------------------------------------------------


def test_it_changes_a_members_role_and_restrictions(world: World, admin: Client):
    response = admin.post(
        f"/settings/users/{world.coordinator.code}/",
        {
            "role": Role.SITE_LEAD,
            "sites": [world.site_a2.pk],
            "study_sites": [],
        },
        follow=True,
    )

    assert f"Saved {world.coordinator.user.email}." in response.content.decode()
    world.coordinator.refresh_from_db()
    assert world.coordinator.role == Role.SITE_LEAD
    assert list(world.coordinator.restricted_sites.all()) == [world.site_a2]
    assert list(world.coordinator.restricted_study_sites.all()) == []
    assert list(visible_study_sites(world.coordinator)) == [world.study_site_a2]


def test_the_edit_form_starts_from_the_current_role_and_restrictions(world: World, admin: Client):
    form = admin.get(f"/settings/users/{world.coordinator.code}/").context["form"]

    assert form.initial["role"] == Role.COORDINATOR
    assert list(form.initial["study_sites"]) == [world.study_site_a]


def test_it_cannot_remove_the_last_org_admin_by_changing_their_role(world: World, admin: Client):
    response = admin.post(f"/settings/users/{world.admin.code}/", {"role": Role.SITE_LEAD})

    assert response.status_code == 200
    assert "at least one active org admin" in _error_next_to(response, "role")
    world.admin.refresh_from_db()
    assert world.admin.role == Role.ORG_ADMIN


def test_an_admin_may_step_down_when_another_admin_remains(world: World, admin: Client):
    MembershipFactory(organization=world.org_a, role=Role.ORG_ADMIN)

    response = admin.post(f"/settings/users/{world.admin.code}/", {"role": Role.SITE_LEAD})

    assert response.status_code == 302
    world.admin.refresh_from_db()
    assert world.admin.role == Role.SITE_LEAD
    # Their next request finds them a site lead.
    assert admin.get("/settings/").status_code == 403


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(world: World, admin: Client):
    MembershipFactory(organization=world.org_a, role=Role.ORG_ADMIN, is_active=False)

    response = admin.post(f"/settings/users/{world.admin.code}/", {"role": Role.SITE_LEAD})

    assert "at least one active org admin" in _error_next_to(response, "role")


# Deactivation ---------------------------------------------------------------------------------


def test_it_deactivates_and_reactivates_a_member(world: World, admin: Client):
    coordinator = signed_in(world.coordinator.user)
    assert coordinator.get("/queue/").status_code == 200

    response = admin.post(
        f"/settings/users/{world.coordinator.code}/deactivate/", {"reason": "Left"}, follow=True
    )

    assert "deactivated; they are signed out on their next request" in (response.content.decode())
    world.coordinator.refresh_from_db()
    assert not world.coordinator.is_active
    assert world.coordinator.deactivated_at is not None
    assert coordinator.get("/queue/")["Location"].startswith("/accounts/login/")
    assert "Deactivated" in admin.get("/settings/").content.decode()

    response = admin.post(f"/settings/users/{world.coordinator.code}/reactivate/", follow=True)

    assert f"{world.coordinator.user.email} reactivated." in response.content.decode()
    reactivated = Membership.objects.get(pk=world.coordinator.pk)
    assert reactivated.is_active
    assert reactivated.deactivated_at is None
    assert signed_in(world.coordinator.user).get("/queue/").status_code == 200


def test_an_admin_cannot_deactivate_themselves(world: World, admin: Client):
    response = admin.post(f"/settings/users/{world.admin.code}/deactivate/", follow=True)

    assert "You cannot deactivate yourself." in response.content.decode()
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_the_last_active_org_admin_cannot_be_deactivated(world: World):
    # A second admin who is themselves deactivated cannot be the one who stays.
    other = MembershipFactory(organization=world.org_a, role=Role.ORG_ADMIN)
    signed_in(other.user).post(f"/settings/users/{world.admin.code}/deactivate/")
    world.admin.refresh_from_db()
    assert not world.admin.is_active

    response = signed_in(other.user).post(f"/settings/users/{other.code}/deactivate/", follow=True)

    assert "You cannot deactivate yourself." in response.content.decode()
    other.refresh_from_db()
    assert other.is_active
    assert Membership.objects.filter(
        organization=world.org_a, role=Role.ORG_ADMIN, is_active=True
    ).exists()


# Sites ----------------------------------------------------------------------------------------


def test_it_creates_a_site(world: World, admin: Client):
    response = admin.post("/settings/sites/new/", _site_form(), follow=True)

    assert "Saved A East." in response.content.decode()
    site = Site.objects.get(organization=world.org_a, name="A East")
    assert site.timezone == "America/Chicago"
    assert (site.opens_at, site.closes_at) == (time(8), time(18))
    assert site.business_days == [1, 2, 3, 4, 5]
    assert "A East" in admin.get("/settings/sites/").content.decode()


def test_it_edits_a_site(world: World, admin: Client):
    response = admin.post(
        f"/settings/sites/{world.site_a.code}/",
        _site_form(name="A North", timezone="America/Denver", business_days=["1", "3"]),
    )

    assert response["Location"] == "/settings/sites/"
    world.site_a.refresh_from_db()
    assert world.site_a.timezone == "America/Denver"
    assert world.site_a.business_days == [1, 3]
    assert world.site_a.organization == world.org_a


def test_a_bad_timezone_gets_a_clear_message(world: World, admin: Client):
    response = admin.post("/settings/sites/new/", _site_form(timezone="Mars/Olympus_Mons"))

    assert response.status_code == 200
    assert "is not a known time zone (e.g. America/Chicago)" in _error_next_to(response, "timezone")
    assert not Site.objects.filter(name="A East").exists()


def test_closing_before_opening_is_refused(world: World, admin: Client):
    response = admin.post(
        f"/settings/sites/{world.site_a.code}/", _site_form(opens_at="17:00", closes_at="09:00")
    )

    assert response.status_code == 200
    assert "Closing time must be after opening time." in _error_next_to(response, "closes_at")
    # The one clear message, not also the database constraint's generic one.
    assert list(response.context["form"].errors) == ["closes_at"]
    world.site_a.refresh_from_db()
    assert world.site_a.opens_at == time(9)


def test_a_site_needs_a_business_day(world: World, admin: Client):
    response = admin.post("/settings/sites/new/", _site_form(business_days=[]))

    assert response.status_code == 200
    assert _field_errors(response, "business_days")
    assert not Site.objects.filter(name="A East").exists()


def test_a_site_name_is_unique_within_the_organization(world: World, admin: Client):
    response = admin.post("/settings/sites/new/", _site_form(name="a north"))

    assert "Another site already has this name." in _error_next_to(response, "name")


def test_another_organization_may_use_the_same_site_name(world: World):
    response = signed_in(world.outsider.user).post(
        "/settings/sites/new/", _site_form(name="A North")
    )

    assert response.status_code == 302
    assert Site.objects.filter(name="A North").count() == 2


# Studies at sites -----------------------------------------------------------------------------


def test_it_adds_a_study_to_a_site(world: World, admin: Client):
    study = StudyFactory(brief_title="Sun Safety")

    response = admin.post(
        "/settings/studies/new/",
        {
            "site": world.site_a.pk,
            "study": study.pk,
            "recruitment_status": "not_yet_recruiting",
            "enrollment_target": 20,
            "lay_summary": "A study about sunscreen.",
            "rank": 10,
        },
        follow=True,
    )

    assert "Study added to the site." in response.content.decode()
    study_site = StudySite.objects.get(site=world.site_a, study=study)
    assert study_site.organization == world.org_a
    assert study_site.enrollment_target == 20
    assert study_site.recruitment_status == "not_yet_recruiting"  # until its checklist is done
    assert "Sun Safety" in admin.get("/settings/studies/").content.decode()


def test_adding_the_same_study_to_a_site_twice_is_refused(world: World, admin: Client):
    response = admin.post(
        "/settings/studies/new/",
        {
            "site": world.site_a.pk,
            "study": world.study_site_a.study.pk,
            "recruitment_status": "not_yet_recruiting",
            "rank": 100,
        },
    )

    assert response.status_code == 200
    assert "This study already runs at this site." in _error_next_to(response, "study")
    assert list(response.context["form"].errors) == ["study"]
    assert StudySite.objects.filter(site=world.site_a).count() == 1


def test_a_study_cannot_be_added_to_another_organizations_site(world: World, admin: Client):
    study = StudyFactory()

    response = admin.post(
        "/settings/studies/new/",
        {"site": world.site_b.pk, "study": study.pk, "recruitment_status": "recruiting"},
    )

    assert "Select a valid choice" in _error_next_to(response, "site")
    assert not StudySite.objects.filter(study=study).exists()


def test_it_pauses_a_study_at_a_site(world: World, admin: Client):
    response = admin.post(
        f"/settings/studies/{world.study_site_a.code}/",
        {
            "recruitment_status": "paused",
            "rank": 5,
            "sponsor_viewers": [world.sponsor_viewer.pk],
        },
    )

    assert response["Location"] == "/settings/studies/"
    world.study_site_a.refresh_from_db()
    assert world.study_site_a.recruitment_status == "paused"
    assert world.study_site_a.rank == 5


# Sharing reports with a sponsor viewer --------------------------------------------------------


def test_sharing_a_study_site_shows_it_on_the_sponsor_viewers_reports(world: World, admin: Client):
    study_site = world.study_site_a2
    viewer = SponsorMembershipFactory(sponsor=study_site.study.sponsor).user
    reports = signed_in(viewer)
    assert "No site has shared" in reports.get("/reports/").content.decode()
    form = admin.get(f"/settings/studies/{study_site.code}/").context["form"]
    assert list(form.fields["sponsor_viewers"].queryset) == [viewer]

    response = admin.post(
        f"/settings/studies/{study_site.code}/",
        {"recruitment_status": "recruiting", "rank": 100, "sponsor_viewers": [viewer.pk]},
    )

    assert response.status_code == 302
    page = reports.get("/reports/").content.decode()
    assert study_site.study.brief_title in page
    assert "A South" in page
    # Nothing else of the organization came with it.
    assert world.study_site_a.study.brief_title not in page


def test_unsharing_removes_the_study_site_from_the_reports(world: World, admin: Client):
    reports = signed_in(world.sponsor_viewer)
    assert world.study_site_a.study.brief_title in reports.get("/reports/").content.decode()

    admin.post(
        f"/settings/studies/{world.study_site_a.code}/",
        {"recruitment_status": "recruiting", "rank": 100},
    )

    assert "No site has shared" in reports.get("/reports/").content.decode()


def test_reports_cannot_be_shared_with_another_sponsors_viewer(world: World, admin: Client):
    stranger = SponsorMembershipFactory().user

    response = admin.post(
        f"/settings/studies/{world.study_site_a2.code}/",
        {"recruitment_status": "recruiting", "rank": 100, "sponsor_viewers": [stranger.pk]},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in _error_next_to(response, "sponsor_viewers")
    assert "No site has shared" in signed_in(stranger).get("/reports/").content.decode()


def test_reports_cannot_be_shared_with_a_staff_user(world: World, admin: Client):
    response = admin.post(
        f"/settings/studies/{world.study_site_a.code}/",
        {
            "recruitment_status": "recruiting",
            "rank": 100,
            "sponsor_viewers": [world.coordinator.user.pk],
        },
    )

    assert "Select a valid choice" in _error_next_to(response, "sponsor_viewers")


def test_a_refused_share_leaves_the_study_site_unchanged(world: World):
    """Settings and sharing are saved together or not at all."""
    stranger = SponsorMembershipFactory().user  # another sponsor's viewer: refused
    with pytest.raises(ValidationError, match="sponsor's viewers"):
        study_site_update(
            study_site=world.study_site_a,
            viewers=[stranger],
            actor=Actor(world.admin.user),
            recruitment_status="paused",
            rank=7,
        )
    world.study_site_a.refresh_from_db()
    assert (world.study_site_a.recruitment_status, world.study_site_a.rank) == ("recruiting", 100)
    assert not AuditEvent.objects.filter(action="study_site.updated").exists()


# Navigation -----------------------------------------------------------------------------------


def test_the_navigation_shows_only_what_each_role_may_use(world: World):
    assert _nav_links(signed_in(world.coordinator.user).get("/queue/")) == [
        "/queue/",
        "/records/providers/",
        "/outreach/inbox/",
    ]
    assert _nav_links(signed_in(world.site_lead.user).get("/queue/")) == [
        "/queue/",
        "/dashboard/",
        "/team/",
        "/imports/",
        "/people/duplicates/",
        "/records/providers/",
        "/outreach/inbox/",
    ]
    assert _nav_links(signed_in(world.admin.user).get("/queue/")) == [
        "/queue/",
        "/dashboard/",
        "/team/",
        "/imports/",
        "/people/duplicates/",
        "/records/providers/",
        "/outreach/inbox/",
        "/settings/",
    ]
    assert _nav_links(signed_in(world.sponsor_viewer).get("/reports/")) == ["/reports/"]


def test_every_navigation_link_opens_for_its_role(world: World):
    for user in (
        world.coordinator.user,
        world.site_lead.user,
        world.admin.user,
        world.sponsor_viewer,
    ):
        client = signed_in(user)
        for link in _nav_links(client.get("/", follow=True)):
            assert client.get(link).status_code == 200, (user, link)


def test_a_coordinator_sees_no_settings_link(world: World):
    page = signed_in(world.coordinator.user).get("/queue/").content.decode()

    assert "Settings" not in page
    assert 'href="/settings/' not in page


def test_an_anonymous_visitor_sees_no_navigation(world: World):
    assert _nav_links(Client().get("/accounts/login/")) == []


def test_a_user_without_an_organization_is_told_so(world: World):
    client = signed_in(UserFactory())

    response = client.get("/")

    assert "No access yet" in response.content.decode()
    assert _nav_links(response) == []


# Characters, lengths and postal codes on the staff screens -----------------------------------


def test_the_invite_form_refuses_an_escape_sequence_in_a_name(world: World, admin: Client):
    response = admin.post(
        "/settings/users/invite/",
        {"email": "esc@example.com", "first_name": "Eve\x1b]0;pwned\x07", "role": "coordinator"},
    )

    assert response.status_code == 200
    assert "Remove the control characters" in _error_next_to(response, "first_name")
    assert not Membership.objects.filter(user__email="esc@example.com").exists()


def test_a_site_name_with_a_control_character_is_refused(world: World, admin: Client):
    response = admin.post(f"/settings/sites/{world.site_a.code}/", _site_form(name="A\x1bNorth"))

    assert response.status_code == 200
    assert "Remove the control characters" in _error_next_to(response, "name")
    world.site_a.refresh_from_db()
    assert world.site_a.name == "A North"


def test_a_sites_postal_code_is_checked_for_its_country(world: World, admin: Client):
    refused = admin.post("/settings/sites/new/", _site_form(postal_code="6060"))
    canadian = admin.post(
        "/settings/sites/new/",
        _site_form(name="Toronto", country="Canada", postal_code="m5g2c4", state="Ontario"),
    )

    assert "Enter a ZIP code, such as 60601." in _error_next_to(refused, "postal_code")
    assert canadian.status_code == 302
    assert Site.objects.get(name="Toronto").postal_code == "M5G 2C4"


def test_a_lay_summary_is_limited_on_the_form_and_in_the_service(world: World, admin: Client):
    response = admin.post(
        f"/settings/studies/{world.study_site_a.code}/",
        {"recruitment_status": "recruiting", "rank": 100, "lay_summary": "x" * 5001},
    )

    assert "Shorten this to 5000 characters or fewer (it has 5001)." in _error_next_to(
        response, "lay_summary"
    )
    with pytest.raises(ValidationError) as refusal:
        study_site_update(
            study_site=world.study_site_a, lay_summary="x" * 5001, actor=Actor(world.admin.user)
        )
    assert "lay_summary" in refusal.value.message_dict
    world.study_site_a.refresh_from_db()
    assert world.study_site_a.lay_summary == ""


def test_a_deactivation_reason_is_limited(world: World, admin: Client):
    response = admin.post(
        f"/settings/users/{world.coordinator.code}/deactivate/", {"reason": "r" * 501}, follow=True
    )

    assert "Shorten this to 500 characters or fewer (it has 501)." in response.content.decode()
    world.coordinator.refresh_from_db()
    assert world.coordinator.is_active
    with pytest.raises(ValidationError) as refusal:
        membership_set_active(
            membership=world.site_lead, active=False, reason="r" * 501, actor=Actor(None)
        )
    assert "reason" in refusal.value.message_dict
    world.site_lead.refresh_from_db()
    assert world.site_lead.is_active


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/outreach/inbox/", "Replies"),
        ("/outreach/settings/", "Settings"),
        ("/outreach/templates/", "Settings"),
        ("/settings/sites/", "Settings"),
        ("/queue/", "Queue"),
    ],
)
@pytest.mark.django_db
def test_the_nav_marks_the_item_of_the_page_and_only_it(world: World, path: str, current: str):
    body = signed_in(world.admin.user).get(path).content.decode()
    main_nav = body.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', main_nav)
    assert marked == [current]
