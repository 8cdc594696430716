"""Every URL the project defines, for every persona: the status each must get.

A URL name missing from MATRIX fails `test_the_matrix_covers_every_url_the_project_defines`: a
new page cannot ship without deciding who may open it. URL parameters are filled with real
objects of org A, so the outsider (org B's admin) must get a 404 wherever an org-A object is
named, never a 403 or a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from leads.actions import ACTIONS
from leads.intake.api_keys import api_key_create
from leads.intake.merges import person_merge
from leads.models import Lead, RecruitmentMaterial, Submission, SuspectedDuplicate
from leads.services import (
    lead_change_status,
    leads_close_many,
    leads_reassign_all,
    saved_view_create,
)
from records.models import RecordItem, RecordRequirement
from records.services import provider_create, requirement_create
from tests.conftest import World, signed_in
from tests.factories import LeadFactory, SuspectedDuplicateFactory, new_lead
from tests.prescreen import objects as prescreen
from tests.scheduling import objects as scheduling
from trialsnest.accounts.middleware import is_open
from trialsnest.audit.services import Actor
from trialsnest.tenancy.models import Membership

PERSONAS = ("anonymous", "coordinator", "site_lead", "admin", "outsider", "sponsor")


@dataclass(frozen=True)
class To:
    """A 302 whose Location starts with `prefix`."""

    prefix: str


LOGIN = To("/accounts/login/?next=")
TWO_FACTOR_SETUP = To("/accounts/two-factor/setup/")
SETTINGS = To("/settings/")


def _org_a_membership(world: World) -> dict[str, Any]:
    return {"code": world.coordinator.code}


def _org_a_site(world: World) -> dict[str, Any]:
    return {"code": world.site_a.code}


def _org_a_study_site(world: World) -> dict[str, Any]:
    return {"code": world.study_site_a.code}


def _org_a_study(world: World) -> dict[str, Any]:
    """Org A's recruiting study (public: its page is anyone's)."""
    return {"code": world.study_site_a.study.code}


def _org_a_sponsor_update(world: World) -> dict[str, Any]:
    from reporting.updates import update_save

    update = update_save(
        study_site=world.study_site_a, actor=Actor(world.site_lead.user), moved="Steady."
    )
    return {"code": update.code}


def _org_a_released_update(world: World) -> dict[str, Any]:
    from reporting.models import SponsorUpdate
    from reporting.updates import update_release

    update = SponsorUpdate.objects.get(code=_org_a_sponsor_update(world)["code"])
    update_release(update=update, actor=Actor(world.site_lead.user))
    return {"code": update.code}


def _org_a_action_item(world: World) -> dict[str, Any]:
    """An action of org A's weekly review, owned by its coordinator."""
    from reporting.reviews import action_item_add

    item = action_item_add(
        membership=world.site_lead,
        owner=world.coordinator,
        title="Call the radio leads back",
        due_on=timezone.localdate(),
        metric="contacted",
        actor=Actor(world.site_lead.user),
    )
    return {"code": item.code}


def _org_a_material(world: World) -> dict[str, Any]:
    material = RecruitmentMaterial.objects.create(
        organization=world.org_a,
        material_code="FLYER-1",
        title="Flyer",
        approved_on=date(2026, 1, 1),
    )
    return {"code": material.code}


def _org_a_lead(world: World) -> dict[str, Any]:
    """A lead at study_site_a: the coordinator (restricted to it) may see it."""
    return {"code": LeadFactory(study_site=world.study_site_a).code}


def _org_a_lead_action(action: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: {**_org_a_lead(world), "action": action}


def _org_a_api_key(world: World) -> dict[str, Any]:
    api_key, _ = api_key_create(
        organization=world.org_a,
        name="Acme",
        source="referral_partner",
        referral_partner="Acme",
        actor=Actor(world.admin.user),
    )
    return {"code": api_key.code}


def _org_a_bulk_change(world: World) -> dict[str, Any]:
    """The site lead gave the coordinator's open leads to the org admin."""
    LeadFactory(study_site=world.study_site_a)
    change = leads_reassign_all(
        from_owner=world.coordinator, to_owner=world.admin, actor=Actor(world.site_lead.user)
    )
    return {"code": change.code}


def _coordinators_bulk_close(world: World) -> dict[str, Any]:
    """The coordinator closed one of their leads from the queue."""
    lead = LeadFactory(study_site=world.study_site_a)
    result = leads_close_many(
        leads=[lead], close_reason="duplicate", actor=Actor(world.coordinator.user)
    )
    assert result.change is not None
    return {"code": result.change.code}


def _coordinators_saved_view(world: World) -> dict[str, Any]:
    view = saved_view_create(
        membership=world.coordinator, name="Mine", query="tab=new", shared=True, actor=Actor(None)
    )
    return {"code": view.code}


def _bulk_close_an_org_a_lead(world: World) -> dict[str, Any]:
    lead = LeadFactory(study_site=world.study_site_a)
    return {"leads": [str(lead.code)], "action": "close", "close_reason": "duplicate"}


def _reset_token(world: World) -> dict[str, Any]:
    user = world.coordinator.user
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def _org_a_csv_import(world: World) -> dict[str, Any]:
    from leads.intake.csv.services import csv_import_upload

    imp = csv_import_upload(
        data=b"name,phone\nAnn Lee,(303) 555-0100\n",
        filename="list.csv",
        study_site=world.study_site_a,
        source="vendor_list",
        campaign="",
        actor=Actor(world.site_lead.user),
    )
    return {"code": imp.code}


def _org_a_people(world: World) -> dict[str, Any]:
    first = LeadFactory(study_site=world.study_site_a).person
    second = LeadFactory(study_site=world.study_site_a2).person
    return {"code": first.code, "other": second.code}


def _org_a_person(world: World) -> dict[str, Any]:
    return {"code": LeadFactory(study_site=world.study_site_a).person.code}


def _coordinators_invitation(world: World) -> dict[str, Any]:
    """Org B invited org A's coordinator, who has not answered yet."""
    invitation = Membership.objects.create(
        user=world.coordinator.user, organization=world.org_b, pending=True, is_active=False
    )
    return {"code": invitation.code}


def _org_a_suspicion(world: World) -> dict[str, Any]:
    return {"code": SuspectedDuplicateFactory(matched__organization=world.org_a).code}


def _org_a_misattached_lead(world: World) -> dict[str, Any]:
    """A lead on a person whose submission names someone else (as migration 0011 finds)."""
    lead = LeadFactory(study_site=world.study_site_a)
    submission = Submission.objects.create(
        organization=world.org_a,
        study_site=world.study_site_a,
        channel="web_form",
        payload={"first_name": "Walker", "phone": lead.person.phone, "consent": []},
        lead=lead,
    )
    Submission.objects.filter(pk=submission.pk).update(received_at=lead.received_at)
    suspicion = SuspectedDuplicate.objects.create(
        organization=world.org_a,
        person=lead.person,
        lead=lead,
        submission=submission,
        reason="Interest submitted as “Walker” was attached to this person.",
    )
    return {"code": suspicion.code}


def _org_a_merge(world: World) -> dict[str, Any]:
    kept = LeadFactory(study_site=world.study_site_a).person
    merged = LeadFactory(study_site=world.study_site_a2).person
    merge = person_merge(keep=kept, other=merged, values={}, actor=Actor(world.site_lead.user))
    return {"code": merge.code}


def _org_a_records_lead(world: World) -> tuple[Lead, RecordItem, RecordRequirement]:
    """A lead at study_site_a at the records step, with one needed item."""
    actor = Actor(world.site_lead.user)
    requirement = requirement_create(
        study_site=world.study_site_a, name="HbA1c", required=True, lookback_days=90,
        instructions="", actor=actor,
    )  # fmt: skip
    lead = new_lead(study_site=world.study_site_a)
    lead = lead_change_status(lead=lead, status="prescreening", actor=actor)
    lead = lead_change_status(lead=lead, status="records_pending", actor=actor)
    return lead, RecordItem.objects.get(lead=lead), requirement


def _org_a_record_item(world: World) -> dict[str, Any]:
    lead, item, _ = _org_a_records_lead(world)
    return {"code": lead.code, "item": item.code, "action": "request"}


def _org_a_records_lead_code(world: World) -> dict[str, Any]:
    return {"code": _org_a_records_lead(world)[0].code}


def _org_a_requirement(world: World) -> dict[str, Any]:
    return {"code": _org_a_records_lead(world)[2].code}


def _org_a_provider(world: World) -> dict[str, Any]:
    provider = provider_create(
        organization_id=world.org_a.pk, actor=Actor(None), practice="Denver FP", phone="1"
    )
    return {"code": provider.code}


def _confirm(world: World) -> dict[str, Any]:
    return {"confirm": "yes"}


def _no_kwargs(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    method: str
    expected: dict[str, int | To]
    kwargs: Callable[[World], dict[str, Any]] = _no_kwargs
    data: Callable[[World], dict[str, Any]] = _no_kwargs


def everyone(expected: int | To) -> dict[str, int | To]:
    return dict.fromkeys(PERSONAS, expected)


def members(
    anonymous: int | To = LOGIN,
    coordinator: int | To = 200,
    site_lead: int | To = 200,
    admin: int | To = 200,
    outsider: int | To = 200,
    sponsor: int | To = 404,
) -> dict[str, int | To]:
    return {
        "anonymous": anonymous,
        "coordinator": coordinator,
        "site_lead": site_lead,
        "admin": admin,
        "outsider": outsider,
        "sponsor": sponsor,
    }


# POST-only views for members: a GET is refused before any lookup.
MEMBER_ACTION_GET = members(coordinator=405, site_lead=405, admin=405, outsider=405)
# POST-only views for anyone signed in.
ANY_ACTION_GET = members(coordinator=405, site_lead=405, admin=405, outsider=405, sponsor=405)
# Site-lead pages (site leads and org admins): a coordinator's role is refused.
SITE_LEAD_PAGE = members(coordinator=403)
QUEUE = To("/queue/")

# Org-admin pages of the admin's own organization: no org-A object in the URL.
ADMIN_PAGE = members(coordinator=403, site_lead=403)
# Org-admin pages naming an org-A object: the outsider passes the role check, then gets a 404.
ADMIN_OBJECT_PAGE = members(coordinator=403, site_lead=403, outsider=404)
# POST-only org-admin actions: a GET is refused before any lookup, so it reveals nothing.
ADMIN_ACTION_GET = members(coordinator=403, site_lead=403, admin=405, outsider=405)


# Writes on the duplicates page (site leads and org admins): done, then back to the page.
DUPLICATES = To("/people/duplicates/")
DUPLICATES_ACTION = members(coordinator=403, site_lead=DUPLICATES, admin=DUPLICATES, outsider=404)
# POST-only site-lead actions: the role is checked first, then a GET is refused.
SITE_LEAD_ACTION_GET = members(coordinator=403, site_lead=405, admin=405, outsider=405)


def admin_action_post(admin: To) -> dict[str, int | To]:
    return members(coordinator=403, site_lead=403, admin=admin, outsider=404)


# Prescreen builder pages (site leads and org admins) naming an org-A object; sponsors get 404.
PRESCREEN_BUILDER = members(coordinator=403, outsider=404, sponsor=404)
# An invalid builder form shows its errors (422) to site leads.
PRESCREEN_BUILDER_FORM = members(
    coordinator=403, site_lead=422, admin=422, outsider=404, sponsor=404
)
PRESCREEN_ACTION_GET = members(coordinator=403, site_lead=405, admin=405, outsider=405, sponsor=404)
PRESCREEN_BACK = To("/prescreen/study-sites/")


def prescreen_post(done: To) -> dict[str, int | To]:
    return members(coordinator=403, site_lead=done, admin=done, outsider=404, sponsor=404)


SPONSOR_ONLY = members(coordinator=403, site_lead=403, admin=403, outsider=403, sponsor=200)

MATRIX: dict[str, list[Row]] = {
    # django.contrib.auth.urls
    "login": [Row("GET", everyone(200))],
    "logout": [
        Row("GET", everyone(405)),
        Row("POST", everyone(To("/accounts/login/"))),
    ],
    "password_change": [Row("GET", members(sponsor=200))],
    "password_change_done": [Row("GET", members(sponsor=200))],
    "password_reset": [Row("GET", everyone(200))],
    "password_reset_done": [Row("GET", everyone(200))],
    # A valid token is moved into the session and the browser sent on to the form.
    "password_reset_confirm": [
        Row("GET", everyone(To("/accounts/reset/")), kwargs=_reset_token),
    ],
    "password_reset_complete": [Row("GET", everyone(200))],
    "accept_invitation": [
        Row("GET", everyone(To("/accounts/welcome/")), kwargs=_reset_token),
    ],
    "healthz": [Row("GET", everyone(200))],
    # The second factor: nobody here has turned it on, so verifying and the recovery codes
    # send them to set it up (tests/tenancy/test_two_factor.py has the rest).
    "two_factor_verify": [Row("GET", {**everyone(TWO_FACTOR_SETUP), "anonymous": LOGIN})],
    "two_factor_setup": [Row("GET", {**everyone(200), "anonymous": LOGIN})],
    "two_factor_codes": [Row("GET", {**everyone(TWO_FACTOR_SETUP), "anonymous": LOGIN})],
    "confirm_identity": [Row("GET", {**everyone(200), "anonymous": LOGIN})],
    # Passkeys (trialsnest.accounts.passkeys): JSON endpoints of the browser's ceremonies, POST
    # only. Adding one needs two-factor sign-in on first; without a sign-in there is nobody.
    "otp_webauthn:credential-registration-begin": [
        Row("GET", {**everyone(403), "anonymous": 403}),
        Row("POST", {**everyone(403), "anonymous": 403}),
    ],
    "otp_webauthn:credential-registration-complete": [
        Row("GET", {**everyone(403), "anonymous": 403}),
        Row("POST", {**everyone(403), "anonymous": 403}),
    ],
    "otp_webauthn:credential-authentication-begin": [
        Row("GET", {**everyone(405), "anonymous": 403}),
        Row("POST", {**everyone(200), "anonymous": 403}),
    ],
    "otp_webauthn:credential-authentication-complete": [
        Row("GET", {**everyone(405), "anonymous": 403}),
        Row("POST", {**everyone(400), "anonymous": 403}),
    ],
    "otp_webauthn:js-i18n-catalog": [Row("GET", everyone(200))],
    # One's own passkey only (tests/tenancy/test_two_factor.py); nobody here has one.
    "passkey_remove": [
        Row("GET", {**everyone(405), "anonymous": LOGIN}, kwargs=lambda world: {"pk": 1}),
        Row("POST", {**everyone(404), "anonymous": LOGIN}, kwargs=lambda world: {"pk": 1}),
    ],
    "settings_two_factor": [
        Row("GET", ADMIN_ACTION_GET),
        # Of the admin's own organization: the outsider changes theirs.
        Row("POST", members(coordinator=403, site_lead=403, admin=SETTINGS, outsider=SETTINGS)),
    ],
    "jobs": [Row("GET", members(coordinator=403, sponsor=404))],
    "audit_log": [Row("GET", members(coordinator=403, sponsor=404))],
    "audit_log_csv": [Row("GET", members(coordinator=403, sponsor=404))],
    # A member's own absence: no object in the URL; an empty form clears it (back to the page).
    "away": [
        Row("GET", members(sponsor=404)),
        Row(
            "POST",
            members(
                coordinator=To("/away/"),
                site_lead=To("/away/"),
                admin=To("/away/"),
                outsider=To("/away/"),
                sponsor=404,
            ),
        ),
    ],
    # A member's own notifications: no org-A object in the URL; sponsors never see the bell.
    "notifications": [Row("GET", members(sponsor=404))],
    "notifications_bell": [Row("GET", members(sponsor=404))],
    "notifications_read": [
        Row("GET", members(coordinator=405, site_lead=405, admin=405, outsider=405, sponsor=404)),
        Row(
            "POST",
            members(
                coordinator=To("/notifications/"),
                site_lead=To("/notifications/"),
                admin=To("/notifications/"),
                outsider=To("/notifications/"),
                sponsor=404,
            ),
        ),
    ],
    # The shell
    "home": [
        Row(
            "GET",
            {
                "anonymous": To("/accounts/login/"),
                "coordinator": To("/queue/"),
                "site_lead": To("/dashboard/"),
                "admin": To("/settings/"),
                "outsider": To("/settings/"),
                "sponsor": To("/reports/"),
            },
        )
    ],
    "choose_organization": [
        Row("GET", members(sponsor=To("/"))),
        # Choosing org A works for its members; anyone else is told to pick one of their own.
        Row(
            "POST",
            members(
                coordinator=To("/"),
                site_lead=To("/"),
                admin=To("/"),
                outsider=200,
                sponsor=To("/"),
            ),
            data=lambda world: {"code": str(world.org_a.code)},
        ),
    ],
    # Answering an invitation: only the invited user; anyone else's is a 404.
    "invitation_accept": [
        Row("GET", ANY_ACTION_GET, kwargs=_coordinators_invitation),
        Row(
            "POST",
            members(coordinator=To("/"), site_lead=404, admin=404, outsider=404, sponsor=404),
            kwargs=_coordinators_invitation,
        ),
    ],
    "invitation_decline": [
        Row("GET", ANY_ACTION_GET, kwargs=_coordinators_invitation),
        Row(
            "POST",
            members(
                coordinator=To("/organizations/"),
                site_lead=404,
                admin=404,
                outsider=404,
                sponsor=404,
            ),
            kwargs=_coordinators_invitation,
        ),
    ],
    # Settings: users
    "settings_users": [Row("GET", ADMIN_PAGE)],
    "settings_user_invite": [Row("GET", ADMIN_PAGE)],
    "settings_user_edit": [Row("GET", ADMIN_OBJECT_PAGE, kwargs=_org_a_membership)],
    "settings_user_deactivate": [
        Row("GET", ADMIN_ACTION_GET, kwargs=_org_a_membership),
        Row("POST", admin_action_post(To("/settings/")), kwargs=_org_a_membership),
    ],
    "settings_user_reactivate": [
        Row("GET", ADMIN_ACTION_GET, kwargs=_org_a_membership),
        Row("POST", admin_action_post(To("/settings/")), kwargs=_org_a_membership),
    ],
    "settings_user_resend": [
        Row("GET", ADMIN_ACTION_GET, kwargs=_org_a_membership),
        # The coordinator already has a password: refused with a message, back to their page.
        Row("POST", admin_action_post(To("/settings/users/")), kwargs=_org_a_membership),
    ],
    # Settings: sites
    "settings_sites": [Row("GET", ADMIN_PAGE)],
    "settings_site_new": [Row("GET", ADMIN_PAGE)],
    "settings_site_timezone": [Row("GET", ADMIN_PAGE)],
    "settings_site_edit": [
        Row("GET", ADMIN_OBJECT_PAGE, kwargs=_org_a_site),
        # An empty form: the admin sees the errors, the outsider never reaches the form.
        Row("POST", members(coordinator=403, site_lead=403, outsider=404), kwargs=_org_a_site),
    ],
    # Settings: studies at sites
    "settings_study_sites": [Row("GET", ADMIN_PAGE)],
    "settings_study_site_new": [Row("GET", ADMIN_PAGE)],
    "settings_study_site_edit": [
        Row("GET", ADMIN_OBJECT_PAGE, kwargs=_org_a_study_site),
        Row(
            "POST",
            members(coordinator=403, site_lead=403, outsider=404),
            kwargs=_org_a_study_site,
        ),
    ],
    # Settings: API keys
    "settings_api_keys": [Row("GET", ADMIN_PAGE)],
    "settings_api_key_new": [
        Row("GET", ADMIN_PAGE),
        # A valid form: an admin (the outsider too, for their own organization) is sent to the
        # page that shows the new key once.
        Row(
            "POST",
            members(
                coordinator=403,
                site_lead=403,
                admin=To("/settings/api-keys/"),
                outsider=To("/settings/api-keys/"),
            ),
            data=lambda world: {"name": "Vendor", "source": "vendor_list", "scopes": "intake"},
        ),
    ],
    # Opened again, the page says the key was shown once.
    "settings_api_key_created": [Row("GET", ADMIN_OBJECT_PAGE, kwargs=_org_a_api_key)],
    "settings_api_key_revoke": [
        Row("GET", ADMIN_ACTION_GET, kwargs=_org_a_api_key),
        Row("POST", admin_action_post(To("/settings/api-keys/")), kwargs=_org_a_api_key),
    ],
    # The intake API: only an API key gets in, a signed-in session is not one (tests/api).
    "api:lead_create": [Row("GET", everyone(405)), Row("POST", everyone(401))],
    "api:lead_status": [Row("GET", everyone(401), kwargs=_org_a_lead)],
    "api:handoff_list": [Row("GET", everyone(401)), Row("POST", everyone(405))],
    "api:openapi-json": [Row("GET", everyone(200))],
    "api:openapi-view": [Row("GET", everyone(200))],
    "api:api-root": [Row("GET", everyone(404))],
    "api_docs_asset": [
        Row("GET", everyone(200), kwargs=lambda world: {"name": "swagger-ui-init.js"}),
    ],
    # Settings: ClinicalTrials.gov upload (an empty form shows its errors)
    "settings_study_import": [Row("GET", ADMIN_PAGE), Row("POST", ADMIN_PAGE)],
    # The public pages: anyone, signed in or not, whatever their organization. Org A's recruiting
    # study is public, so the outsider sees it too. An empty interest form shows its errors.
    "public_search": [Row("GET", everyone(200))],
    "public_study": [
        Row("GET", everyone(200), kwargs=_org_a_study),
        Row("POST", everyone(200), kwargs=_org_a_study),
    ],
    "public_study_site": [
        Row("GET", everyone(200), kwargs=_org_a_study_site),
        Row("POST", everyone(200), kwargs=_org_a_study_site),
    ],
    "public_thanks": [Row("GET", everyone(200), kwargs=_org_a_study)],
    # Work
    "queue": [Row("GET", members())],
    "queue_search": [Row("GET", members())],
    # The outsider's bulk action names an org-A lead: nothing happens, back to their queue;
    # members who see the lead get the confirmation (the POST is not confirmed).
    "queue_change": [
        Row("GET", members(outsider=404), kwargs=_coordinators_bulk_close),
    ],
    "queue_change_undo": [
        Row("GET", MEMBER_ACTION_GET, kwargs=_coordinators_bulk_close),
        Row(
            "POST",
            members(coordinator=QUEUE, site_lead=QUEUE, admin=QUEUE, outsider=404),
            kwargs=_coordinators_bulk_close,
        ),
    ],
    "queue_bulk": [
        Row("GET", MEMBER_ACTION_GET),
        Row(
            "POST",
            members(outsider=QUEUE),
            data=_bulk_close_an_org_a_lead,
        ),
    ],
    "saved_view_create": [
        Row("GET", MEMBER_ACTION_GET),
        Row(
            "POST",
            members(coordinator=QUEUE, site_lead=QUEUE, admin=QUEUE, outsider=QUEUE),
            data=lambda world: {"name": "Mine", "query": "tab=new"},
        ),
    ],
    # Only its owner (the coordinator) may delete a saved view, even a shared one.
    "saved_view_delete": [
        Row("GET", MEMBER_ACTION_GET, kwargs=_coordinators_saved_view),
        Row(
            "POST",
            members(coordinator=QUEUE, site_lead=404, admin=404, outsider=404),
            kwargs=_coordinators_saved_view,
        ),
    ],
    "lead_detail": [Row("GET", members(outsider=404), kwargs=_org_a_lead)],
    "lead_action": [
        *[
            Row("GET", members(outsider=404), kwargs=_org_a_lead_action(action))
            for action in sorted(ACTIONS)
        ],
        Row(
            "POST",
            members(
                coordinator=To("/leads/"),
                site_lead=To("/leads/"),
                admin=To("/leads/"),
                outsider=404,
            ),
            kwargs=_org_a_lead_action("note"),
            data=lambda world: {"text": "Called, no answer"},
        ),
    ],
    "team": [Row("GET", SITE_LEAD_PAGE)],
    "team_flagged": [Row("GET", SITE_LEAD_PAGE)],
    # The confirmation (GET, or a POST without the confirmed figures) changes nothing.
    "team_reassign": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_membership),
        Row("POST", members(coordinator=403, outsider=404), kwargs=_org_a_membership),
    ],
    "team_undo": [
        Row(
            "GET",
            members(coordinator=403, site_lead=405, admin=405, outsider=405),
            kwargs=_org_a_bulk_change,
        ),
        Row(
            "POST",
            members(coordinator=403, site_lead=To("/team/"), admin=To("/team/"), outsider=404),
            kwargs=_org_a_bulk_change,
        ),
    ],
    # Records (records/urls.py): PHI, so a sponsor viewer gets a 404 like the outsider.
    "records_checklist": [
        Row("GET", members(coordinator=403, outsider=404, sponsor=404), kwargs=_org_a_study_site),
        Row(
            "POST",
            members(coordinator=403, site_lead=422, admin=422, outsider=404, sponsor=404),
            kwargs=_org_a_study_site,
        ),
    ],
    "records_requirement_edit": [
        Row("GET", members(coordinator=403, outsider=404, sponsor=404), kwargs=_org_a_requirement),
    ],
    "records_requirement_archive": [
        Row(
            "GET",
            members(coordinator=403, site_lead=405, admin=405, outsider=405, sponsor=404),
            kwargs=_org_a_requirement,
        ),
        Row(
            "POST",
            members(
                coordinator=403,
                site_lead=To("/study-sites/"),
                admin=To("/study-sites/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=_org_a_requirement,
        ),
    ],
    "records_providers": [
        Row("GET", members(sponsor=404)),
        Row("POST", members(coordinator=422, site_lead=422, admin=422, outsider=422, sponsor=404)),
    ],
    "records_provider_edit": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=_org_a_provider),
    ],
    "lead_records": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=_org_a_records_lead_code),
    ],
    "records_letters": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=_org_a_records_lead_code),
    ],
    "record_item_action": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=_org_a_record_item),
        Row(
            "POST",
            members(coordinator=422, site_lead=422, admin=422, outsider=404, sponsor=404),
            kwargs=_org_a_record_item,
        ),
    ],
    "policy_edit": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_study_site),
        # An empty form: site leads see the errors, the outsider never reaches the form.
        Row("POST", members(coordinator=403, outsider=404), kwargs=_org_a_study_site),
    ],
    # Site leads' Spanish lay summary of a StudySite they lead.
    "study_site_summary_es": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_study_site),
        Row(
            "POST",
            members(coordinator=403, site_lead=To("/team/"), admin=To("/team/"), outsider=404),
            kwargs=_org_a_study_site,
            data=lambda world: {"lay_summary_es": "Un estudio."},
        ),
    ],
    # Recruitment materials (site leads and org admins); an empty form shows its errors.
    "materials": [Row("GET", SITE_LEAD_PAGE), Row("POST", SITE_LEAD_PAGE)],
    "material_edit": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_material),
        Row("POST", members(coordinator=403, outsider=404), kwargs=_org_a_material),
    ],
    # CSV imports and duplicate people: site leads and org admins of the organization.
    "import_list": [Row("GET", SITE_LEAD_PAGE)],
    "import_new": [Row("GET", SITE_LEAD_PAGE), Row("POST", SITE_LEAD_PAGE)],
    "import_detail": [Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_csv_import)],
    "import_start": [
        Row(
            "POST",
            members(
                coordinator=403, site_lead=To("/imports/"), admin=To("/imports/"), outsider=404
            ),
            kwargs=_org_a_csv_import,
        )
    ],
    "import_progress": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_csv_import)
    ],
    "import_retry": [
        Row(
            "POST",
            members(
                coordinator=403, site_lead=To("/imports/"), admin=To("/imports/"), outsider=404
            ),
            kwargs=_org_a_csv_import,
        )
    ],
    "import_rows": [
        Row(
            "GET",
            members(coordinator=403, outsider=404),
            kwargs=lambda world: {**_org_a_csv_import(world), "outcome": "rejected"},
        )
    ],
    "import_original": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_csv_import)
    ],
    "duplicate_list": [Row("GET", SITE_LEAD_PAGE)],
    # Without `confirm` a merge POST only shows what the merge would do.
    "person_export": [
        Row("GET", members(coordinator=403, outsider=404, sponsor=404), kwargs=_org_a_person),
    ],
    "person_erase": [
        Row("GET", members(coordinator=403, outsider=404, sponsor=404), kwargs=_org_a_person),
        Row(
            "POST",
            members(
                coordinator=403,
                site_lead=To("/people/"),
                admin=To("/people/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=_org_a_person,
            data=lambda world: {"reason": "Request 1", "confirm": "on"},
        ),
    ],
    "person_export_json": [
        Row("GET", members(coordinator=403, outsider=404, sponsor=404), kwargs=_org_a_person),
    ],
    "person_merge": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_people),
        Row("POST", members(coordinator=403, outsider=404), kwargs=_org_a_people),
    ],
    "person_merge_undo": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_merge),
        Row("POST", DUPLICATES_ACTION, kwargs=_org_a_merge, data=_confirm),
    ],
    "suspicion_dismiss": [
        Row("GET", SITE_LEAD_ACTION_GET, kwargs=_org_a_suspicion),
        Row("POST", DUPLICATES_ACTION, kwargs=_org_a_suspicion),
    ],
    "suspicion_separate": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_misattached_lead),
        Row("POST", DUPLICATES_ACTION, kwargs=_org_a_misattached_lead, data=_confirm),
    ],
    "person_not_duplicate": [
        Row(
            "POST",
            members(
                coordinator=403,
                site_lead=To("/people/duplicates/"),
                admin=To("/people/duplicates/"),
                outsider=404,
            ),
            kwargs=_org_a_people,
        )
    ],
    # Prescreen builder (site leads and org admins): a sponsor viewer gets a 404 everywhere.
    "prescreen_builder": [
        Row("GET", PRESCREEN_BUILDER, kwargs=_org_a_study_site),
    ],
    "prescreen_draft": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=_org_a_study_site),
        Row("POST", prescreen_post(PRESCREEN_BACK), kwargs=_org_a_study_site),
    ],
    "prescreen_from_study": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=_org_a_study_site),
        # The factory's study has no criteria: refused with a message, back to the builder.
        Row("POST", prescreen_post(PRESCREEN_BACK), kwargs=_org_a_study_site),
    ],
    "prescreen_import": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=_org_a_study_site),
        Row("POST", prescreen_post(PRESCREEN_BACK), kwargs=_org_a_study_site),
    ],
    "prescreen_publish": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=prescreen.org_a_draft),
        Row("POST", prescreen_post(PRESCREEN_BACK), kwargs=prescreen.org_a_draft),
    ],
    "prescreen_question_new": [
        Row("GET", PRESCREEN_BUILDER, kwargs=prescreen.org_a_draft),
        Row("POST", PRESCREEN_BUILDER_FORM, kwargs=prescreen.org_a_draft),
    ],
    "prescreen_export": [Row("GET", PRESCREEN_BUILDER, kwargs=prescreen.org_a_draft)],
    "prescreen_question": [
        Row("GET", PRESCREEN_BUILDER, kwargs=prescreen.org_a_draft_question),
        Row("POST", PRESCREEN_BUILDER_FORM, kwargs=prescreen.org_a_draft_question),
    ],
    "prescreen_question_delete": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=prescreen.org_a_draft_question),
        Row("POST", prescreen_post(PRESCREEN_BACK), kwargs=prescreen.org_a_draft_question),
    ],
    "prescreen_question_move": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=prescreen.org_a_draft_question),
        Row("POST", prescreen_post(PRESCREEN_BACK), kwargs=prescreen.org_a_draft_question),
    ],
    "prescreen_rule_new": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=prescreen.org_a_draft_question),
        Row("POST", PRESCREEN_BUILDER_FORM, kwargs=prescreen.org_a_draft_question),
    ],
    "prescreen_rule_delete": [
        Row("GET", PRESCREEN_ACTION_GET, kwargs=prescreen.org_a_draft_rule),
        Row("POST", prescreen_post(To("/prescreen/questions/")), kwargs=prescreen.org_a_draft_rule),
    ],
    # Conducting a prescreen: any member who sees the lead (the coordinator is restricted to
    # study_site_a, where it is). Saving no answers yet keeps the progress and comes back.
    "prescreen_conduct": [
        Row(
            "GET",
            members(outsider=404, sponsor=404),
            kwargs=prescreen.org_a_lead_with_questionnaire,
        ),
        Row(
            "POST",
            members(
                coordinator=To("/leads/"),
                site_lead=To("/leads/"),
                admin=To("/leads/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=prescreen.org_a_lead_with_questionnaire,
        ),
    ],
    "prescreen_confirm": [
        Row(
            "GET",
            members(coordinator=405, site_lead=405, admin=405, outsider=405, sponsor=404),
            kwargs=prescreen.org_a_submitted_response,
        ),
        Row(
            "POST",
            members(
                coordinator=To("/leads/"),
                site_lead=To("/leads/"),
                admin=To("/leads/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=prescreen.org_a_submitted_response,
            data=prescreen.likely_fit,
        ),
    ],
    "prescreen_review": [
        Row(
            "GET",
            members(coordinator=405, site_lead=405, admin=405, outsider=405, sponsor=404),
            kwargs=prescreen.org_a_response_needing_review,
        ),
        Row(
            "POST",
            members(
                coordinator=To("/leads/"),
                site_lead=To("/leads/"),
                admin=To("/leads/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=prescreen.org_a_response_needing_review,
            data=prescreen.study_team_found_a_fit,
        ),
    ],
    # Scheduling: a lead's week of slots, its appointments, and the site lead's settings;
    # patient data, so a sponsor viewer gets a 404 like the outsider
    "lead_schedule": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=scheduling.org_a_ready_lead),
        Row(
            "POST",
            members(coordinator=422, site_lead=422, admin=422, outsider=404, sponsor=404),
            kwargs=scheduling.org_a_ready_lead,
            data=scheduling.no_slot,
        ),
    ],
    "appointment_detail": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=scheduling.org_a_appointment)
    ],
    "appointment_reschedule": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=scheduling.org_a_appointment),
        Row(
            "POST",
            members(coordinator=422, site_lead=422, admin=422, outsider=404, sponsor=404),
            kwargs=scheduling.org_a_appointment,
        ),
    ],
    "appointment_calendar": [
        Row("GET", members(outsider=404, sponsor=404), kwargs=scheduling.org_a_appointment)
    ],
    "appointment_action": [
        *[
            Row(
                "GET",
                members(coordinator=405, site_lead=405, admin=405, outsider=405, sponsor=404),
                kwargs=scheduling.org_a_appointment_action(action),
            )
            for action in ("confirm", "cancel", "no_show", "complete")
        ],
        Row(
            "POST",
            members(
                coordinator=To("/appointments/"),
                site_lead=To("/appointments/"),
                admin=To("/appointments/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=scheduling.org_a_appointment_action("confirm"),
        ),
    ],
    "site_scheduling": [
        Row(
            "GET", members(coordinator=403, outsider=404, sponsor=404), kwargs=scheduling.org_a_site
        ),
        Row(
            "POST",
            members(coordinator=403, site_lead=422, admin=422, outsider=404, sponsor=404),
            kwargs=scheduling.org_a_site,
            data=lambda world: {"form": "closure"},
        ),
    ],
    "site_part_remove": [
        Row(
            "GET",
            members(coordinator=403, site_lead=405, admin=405, outsider=405, sponsor=404),
            kwargs=scheduling.org_a_closure,
        ),
        Row(
            "POST",
            members(
                coordinator=403,
                site_lead=To("/sites/"),
                admin=To("/sites/"),
                outsider=404,
                sponsor=404,
            ),
            kwargs=scheduling.org_a_closure,
        ),
    ],
    "visit_types": [
        Row(
            "GET",
            members(coordinator=403, outsider=404, sponsor=404),
            kwargs=scheduling.org_a_study_site,
        ),
        Row(
            "POST",
            members(coordinator=403, site_lead=422, admin=422, outsider=404, sponsor=404),
            kwargs=scheduling.org_a_study_site,
        ),
    ],
    "visit_type_edit": [
        Row(
            "GET",
            members(coordinator=403, outsider=404, sponsor=404),
            kwargs=scheduling.org_a_visit_type,
        )
    ],
    "dashboard": [
        Row("GET", members(coordinator=403)),
        # A start after the end is a 422 with the message next to the field.
        Row(
            "GET",
            members(coordinator=403, site_lead=422, admin=422, outsider=422),
            data=lambda world: {"start": "2026-05-01", "end": "2026-04-01"},
        ),
    ],
    "dashboard_csv": [Row("GET", members(coordinator=403))],
    "dashboard_changes": [Row("GET", members(coordinator=403))],
    # The leads behind a figure; an unknown figure is a 422 that says so.
    "dashboard_leads": [
        Row("GET", members(coordinator=403)),
        Row(
            "GET",
            members(coordinator=403, site_lead=422, admin=422, outsider=422),
            data=lambda world: {"measure": "nothing"},
        ),
    ],
    # The weekly review; an empty action form is told its errors (422).
    "weekly_review": [
        Row("GET", SITE_LEAD_PAGE),
        Row("POST", members(coordinator=403, site_lead=422, admin=422, outsider=422)),
    ],
    "action_item_done": [
        Row("GET", MEMBER_ACTION_GET, kwargs=_org_a_action_item),
        Row(
            "POST",
            members(
                coordinator=To("/queue/"),
                site_lead=To("/queue/"),
                admin=To("/queue/"),
                outsider=404,
            ),
            kwargs=_org_a_action_item,
        ),
    ],
    "sponsor_reports": [Row("GET", SPONSOR_ONLY)],
    # The study of org A's StudySite shared with the sponsor viewer.
    "sponsor_report": [Row("GET", SPONSOR_ONLY, kwargs=_org_a_study)],
    "sponsor_report_csv": [Row("GET", SPONSOR_ONLY, kwargs=_org_a_study)],
    # Sponsor updates: site leads draft and release them; the viewers they are shared with read
    # released ones.
    "sponsor_updates": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_study_site)
    ],
    "sponsor_update_new": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_study_site),
        # An empty draft saves (it is released only with a part written).
        Row(
            "POST",
            members(coordinator=403, site_lead=302, admin=302, outsider=404),
            kwargs=_org_a_study_site,
            data=lambda world: {"moved": "Recruiting is steady.", "save": "1"},
        ),
    ],
    "sponsor_update_edit": [
        Row("GET", members(coordinator=403, outsider=404), kwargs=_org_a_sponsor_update),
        Row(
            "POST",
            members(coordinator=403, site_lead=302, admin=302, outsider=404),
            kwargs=_org_a_sponsor_update,
            data=lambda world: {"moved": "Still steady.", "save": "1"},
        ),
    ],
    "sponsor_update": [Row("GET", SPONSOR_ONLY, kwargs=_org_a_released_update)],
}


# Outreach ------------------------------------------------------------------------------------


def _org_a_template(world: World) -> dict[str, Any]:
    from leads.outreach.services.templates import message_template_create

    template = message_template_create(
        organization=world.org_a, name="Hello", channel="sms", language="en", subject="",
        body="Hi {{ first_name }}", actor=Actor(world.admin.user),
    )  # fmt: skip
    return {"code": template.code}


def _org_a_reply_to_review(world: World) -> dict[str, Any]:
    """A reply from an org-A lead's person (at study_site_a) that reads as a wish to stop."""
    from tests.leads.outreach.conftest import text_in

    person = LeadFactory(study_site=world.study_site_a).person
    message = text_in(organization_id=world.org_a.pk, from_number=person.phone, body="wrong number")
    return {"code": message.code}


def _org_a_webhook(world: World) -> dict[str, Any]:
    from leads.outreach.models import OutreachSettings

    outreach, _ = OutreachSettings.objects.get_or_create(organization=world.org_a)
    return {"token": outreach.webhook_token}


def _a_message(world: World) -> dict[str, Any]:
    return {"channel": "sms", "body": "Hello", "key": "permissions-matrix"}


def outreach_member(**overrides: int | To) -> dict[str, int | To]:
    """Outreach pages: org A's objects are a 404 to the outsider and sponsors get a 404."""
    return members(**{"sponsor": 404, **overrides})


OUTREACH_MATRIX: dict[str, list[Row]] = {
    "outreach_message_new": [
        Row("GET", outreach_member(outsider=404), kwargs=_org_a_lead),
        Row(
            "POST",
            outreach_member(
                coordinator=To("/leads/"),
                site_lead=To("/leads/"),
                admin=To("/leads/"),
                outsider=404,
            ),
            kwargs=_org_a_lead,
            data=_a_message,
        ),
    ],
    # Templates and settings name no org-A object: the outsider sees their own organization's.
    "outreach_templates": [
        Row("GET", outreach_member(coordinator=403)),
        Row("POST", outreach_member(coordinator=403, site_lead=422, admin=422, outsider=422)),
    ],
    "outreach_template": [
        Row("GET", outreach_member(coordinator=403, outsider=404), kwargs=_org_a_template),
        Row(
            "POST",
            outreach_member(coordinator=403, site_lead=422, admin=422, outsider=404),
            kwargs=_org_a_template,
        ),
    ],
    "outreach_inbox": [Row("GET", outreach_member())],
    "outreach_inbox_review": [
        Row(
            "GET",
            outreach_member(coordinator=405, site_lead=405, admin=405, outsider=405),
            kwargs=_org_a_reply_to_review,
        ),
        Row(
            "POST",
            outreach_member(
                coordinator=To("/outreach/inbox/"),
                site_lead=To("/outreach/inbox/"),
                admin=To("/outreach/inbox/"),
                outsider=404,
            ),
            kwargs=_org_a_reply_to_review,
            data=lambda world: {"decision": "resume"},
        ),
    ],
    "outreach_settings": [
        Row("GET", outreach_member(coordinator=403, site_lead=403)),
        Row(
            "POST",
            outreach_member(
                coordinator=403,
                site_lead=403,
                admin=To("/outreach/settings/"),
                outsider=To("/outreach/settings/"),
            ),
        ),
    ],
    # Webhooks: no session counts. Twilio's need its signature (403 without); the JSON one
    # needs an organization's token, and an unknown one is a 404.
    "outreach_twilio": [Row("GET", everyone(405)), Row("POST", everyone(403))],
    "outreach_twilio_token": [Row("POST", everyone(403), kwargs=_org_a_webhook)],
    "outreach_twilio_status": [Row("GET", everyone(405)), Row("POST", everyone(403))],
    # No e-mail provider is configured in the tests: the webhook does not exist (its own tests
    # configure one, tests/leads/outreach/test_email_webhooks.py).
    "outreach_email_webhook": [
        Row("GET", everyone(404), kwargs=lambda world: {"kind": "tracking"}),
        Row("POST", everyone(404), kwargs=lambda world: {"kind": "inbound"}),
    ],
    "outreach_sms_inbound": [
        Row("GET", everyone(405), kwargs=_org_a_webhook),
        Row("POST", everyone(404), kwargs=lambda world: {"token": "not-a-token"}),
        # A real token with an empty body: refused with a reason, whoever sends it.
        Row("POST", everyone(400), kwargs=_org_a_webhook),
    ],
}
MATRIX.update(OUTREACH_MATRIX)


def _url_names(patterns: list[URLPattern | URLResolver], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _url_names(pattern.url_patterns, inner)
        elif pattern.name:
            names.add(namespace + pattern.name)
        else:
            names.add(f"<unnamed {pattern.pattern}>")
    return names


def test_the_matrix_covers_every_url_the_project_defines():
    assert _url_names(get_resolver().url_patterns) == set(MATRIX)


def test_every_row_names_every_persona():
    for name, rows in MATRIX.items():
        for row in rows:
            assert set(row.expected) == set(PERSONAS), name


def _client(world: World, persona: str) -> Client:
    users = {
        "coordinator": world.coordinator.user,
        "site_lead": world.site_lead.user,
        "admin": world.admin.user,
        "outsider": world.outsider.user,
        "sponsor": world.sponsor_viewer,
    }
    return Client() if persona == "anonymous" else signed_in(users[persona])


CASES = [
    pytest.param(name, index, persona, id=f"{name}-{row.method}-{persona}")
    for name, rows in MATRIX.items()
    for index, row in enumerate(rows)
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "index", "persona"), CASES)
def test_each_persona_gets_the_expected_status(world, name, index, persona):
    row = MATRIX[name][index]
    client = _client(world, persona)
    # After signing in: a sign-in changes last_login, which invalidates older reset tokens.
    url = reverse(name, kwargs=row.kwargs(world))
    if row.method == "GET":
        response = client.get(url, row.data(world))
    else:
        response = client.post(url, row.data(world))
    expected = row.expected[persona]
    if isinstance(expected, To):
        assert response.status_code == 302, f"{row.method} {url}"
        assert response["Location"].startswith(expected.prefix), response["Location"]
    else:
        assert response.status_code == expected, f"{row.method} {url}"


OPEN_TO_THE_UNVERIFIED = {"two_factor_verify", "two_factor_setup", "two_factor_codes"}
UNVERIFIED_CASES = [
    pytest.param(name, index, id=f"{name}-{row.method}")
    for name, rows in MATRIX.items()
    for index, row in enumerate(rows)
    if name not in OPEN_TO_THE_UNVERIFIED
]


@pytest.mark.parametrize(("name", "index"), UNVERIFIED_CASES)
def test_before_the_second_factor_only_the_open_pages_answer(world, name, index):
    """The coordinator turned two-factor sign-in on and gave only the password: every URL is
    the second-factor page, but those open to anyone (sign-in, resets, public pages, the API
    with its own keys, webhooks from providers), which answer as they would anyway."""
    row = MATRIX[name][index]
    user = world.coordinator.user
    user.two_factor_enabled = True
    user.save(update_fields=["two_factor_enabled"])
    client = signed_in(user)
    url = reverse(name, kwargs=row.kwargs(world))
    response = (
        client.get(url, row.data(world))
        if row.method == "GET"
        else client.post(url, row.data(world))
    )
    if is_open(url):
        expected = row.expected["coordinator"]
        if isinstance(expected, To):
            assert response.status_code == 302, f"{row.method} {url}"
            assert response["Location"].startswith(expected.prefix), response["Location"]
        else:
            assert response.status_code == expected, f"{row.method} {url}"
    else:
        assert response.status_code == 302, f"{row.method} {url}"
        assert response["Location"].startswith("/accounts/two-factor/?next="), url
