"""Settings → API keys: org admins create (the key is shown once) and revoke keys, audited."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client

from leads.models import ApiKey, Source
from tests.conftest import World, signed_in
from tests.leads.api.conftest import Key, get_lead, make_key
from trialsnest.audit.models import AuditEvent

NEW_URL = "/settings/api-keys/new/"
LIST_URL = "/settings/api-keys/"
TOKEN = re.compile(r"tn_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def admin(world: World) -> Client:
    return signed_in(world.admin.user)


def _create(client: Client, follow: bool = True, **overrides: Any) -> Any:
    form = {
        "name": "Acme referrals",
        "scopes": [ApiKey.Scope.INTAKE],
        "source": Source.REFERRAL_PARTNER,
        "referral_partner": "Acme",
    }
    form.update(overrides)
    return client.post(NEW_URL, form, follow=follow)


def test_an_admin_creates_a_key_and_sees_it_once(world: World, admin: Client):
    response = _create(admin)

    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    assert response.redirect_chain == [(f"/settings/api-keys/{api_key.code}/created/", 302)]
    token = TOKEN.search(response.content.decode())
    assert token is not None
    assert "no-cache" in response["Cache-Control"]
    assert (api_key.organization, api_key.name) == (world.org_a, "Acme referrals")
    assert (api_key.source, api_key.referral_partner) == (Source.REFERRAL_PARTNER, "Acme")
    assert api_key.created_by == world.admin.user
    assert token.group() not in admin.get(LIST_URL).content.decode()
    assert get_lead(Key(api_key, token.group()), uuid.uuid4()).status_code == 404  # it works


def test_refreshing_the_created_page_makes_no_key_and_shows_none(world: World, admin: Client):
    created = _create(admin, follow=False)
    shown = admin.get(created["Location"])
    token = TOKEN.search(shown.content.decode())
    assert token is not None

    again = admin.get(created["Location"])

    body = again.content.decode()
    assert again.status_code == 200
    assert TOKEN.search(body) is None
    assert token.group().split("_", 2)[2] not in body
    assert "was shown once" in body
    assert "no-cache" in again["Cache-Control"]
    assert ApiKey.objects.count() == 1
    assert AuditEvent.objects.filter(action="api_key.created").count() == 1


def test_two_keys_created_in_two_tabs_are_each_shown_once(world: World, admin: Client):
    first = _create(admin, follow=False)
    second = _create(admin, follow=False, name="Other vendor")

    def token(created: Any) -> str:
        found = TOKEN.search(admin.get(created["Location"]).content.decode())
        return found.group() if found else ""

    shown = [token(second), token(first)]
    again = [token(second), token(first)]

    assert all(shown)
    assert shown[0] != shown[1]
    assert again == ["", ""]


def test_another_organizations_created_page_is_a_404(world: World, admin: Client):
    created = _create(admin, follow=False)

    assert signed_in(world.outsider.user).get(created["Location"]).status_code == 404


def test_creating_a_key_is_audited_without_the_key(world: World, admin: Client):
    token = TOKEN.search(_create(admin).content.decode())
    assert token is not None

    event = AuditEvent.objects.get(action="api_key.created")

    assert event.actor == world.admin.user
    assert event.organization == world.org_a
    assert event.object_id == str(ApiKey.objects.get().code)
    assert event.changes["referral_partner"] == {"old": None, "new": "Acme"}
    assert token.group().split("_", 2)[2] not in str(event.changes)


def test_a_referral_partner_key_must_name_the_partner(world: World, admin: Client):
    response = _create(admin, referral_partner="  ")

    assert response.status_code == 200
    assert "Name the referral partner" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_key_for_another_source_needs_no_partner(world: World, admin: Client):
    response = _create(
        admin, name="Vendor list upload", source=Source.VENDOR_LIST, referral_partner=""
    )

    assert response.status_code == 200
    assert ApiKey.objects.get().source == Source.VENDOR_LIST


def test_a_ctms_key_reads_handoffs_and_needs_no_source_or_partner(world: World, admin: Client):
    form = _create(admin, follow=False, scopes=[])
    assert "Pick what the key may do." in form.content.decode()
    assert "reads names and contact details" in admin.get(NEW_URL).content.decode()

    response = _create(admin, name="Our CTMS", scopes=[ApiKey.Scope.HANDOFF], referral_partner="")

    api_key = ApiKey.objects.get()
    assert (api_key.scopes, api_key.source, api_key.referral_partner) == (["handoff"], "api", "")
    token = TOKEN.search(response.content.decode())
    assert token is not None
    headers = {"Authorization": f"Bearer {token.group()}"}
    assert Client().get("/api/v1/handoffs/", headers=headers).status_code == 200
    assert Client().get(f"/api/v1/leads/{uuid.uuid4()}", headers=headers).status_code == 403
    assert "read handoffs" in admin.get(LIST_URL).content.decode()
    created = AuditEvent.objects.get(action="api_key.created")
    assert created.changes["scopes"] == {"old": None, "new": ["handoff"]}


def test_the_list_shows_prefix_name_source_last_use_and_revocation(world: World, admin: Client):
    live = make_key(world, partner="Acme")
    revoked = make_key(world, partner="Bygone")
    admin.post(f"/settings/api-keys/{revoked.api_key.code}/revoke/")
    get_lead(live, uuid.uuid4())
    other_org = make_key(world, organization=world.org_b, partner="Bayside")

    page = admin.get(LIST_URL).content.decode()

    assert f"tn_{live.api_key.prefix}_" in page
    assert "Acme key" in page
    assert "Referral partner" in page
    assert "never" in page  # the revoked key was never used
    assert "Revoked" in page
    assert other_org.api_key.prefix not in page
    assert 'aria-current="page">API keys' in page


def test_an_admin_revokes_a_key_and_it_stops_working(world: World, admin: Client, key: Key):
    response = admin.post(f"/settings/api-keys/{key.api_key.code}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    key.api_key.refresh_from_db()
    assert key.api_key.revoked_at is not None
    assert get_lead(key, uuid.uuid4()).status_code == 401
    event = AuditEvent.objects.get(action="api_key.revoked")
    assert event.actor == world.admin.user
    assert event.object_id == str(key.api_key.code)
    assert "revoked_at" in event.changes


def test_revoking_a_revoked_key_changes_nothing(world: World, admin: Client, key: Key):
    admin.post(f"/settings/api-keys/{key.api_key.code}/revoke/")
    key.api_key.refresh_from_db()
    revoked_at = key.api_key.revoked_at

    admin.post(f"/settings/api-keys/{key.api_key.code}/revoke/")

    key.api_key.refresh_from_db()
    assert key.api_key.revoked_at == revoked_at
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_another_organizations_admin_cannot_revoke_our_key(world: World, key: Key):
    outsider = signed_in(world.outsider.user)

    response = outsider.post(f"/settings/api-keys/{key.api_key.code}/revoke/")

    assert response.status_code == 404
    key.api_key.refresh_from_db()
    assert key.api_key.revoked_at is None


@pytest.mark.parametrize("persona", ["site_lead", "coordinator"])
def test_only_org_admins_manage_keys(world: World, key: Key, persona: str):
    client = signed_in(getattr(world, persona).user)

    assert client.get(LIST_URL).status_code == 403
    assert _create(client).status_code == 403
    assert client.post(f"/settings/api-keys/{key.api_key.code}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1
    key.api_key.refresh_from_db()
    assert key.api_key.revoked_at is None


def test_a_key_made_by_another_organizations_admin_belongs_to_their_organization(world: World):
    outsider = signed_in(world.outsider.user)

    _create(outsider)

    assert ApiKey.objects.get().organization == world.org_b
