"""The audit trail: append-only in the database, and written by every security-relevant change."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from tests.conftest import World, signed_in
from tests.factories import PASSWORD
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import audit_record, audit_record_many, changed_fields
from trialsnest.tenancy.models import Role


@pytest.fixture
def event(world: World) -> AuditEvent:
    return audit_record(
        action="test.recorded", actor=world.admin.user, organization=world.org_a, reason="kept"
    )


def _refused(statement: str, params: list[int]) -> str:
    """Run `statement` in a savepoint and return the database's refusal."""
    with (
        pytest.raises(DatabaseError) as refusal,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
    return str(refusal.value)


# Append-only ---------------------------------------------------------------------------------


def test_the_tests_connect_as_the_owner_of_the_audit_table(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'audit_auditevent'"
        )
        assert cursor.fetchone() == (True,)


def test_raw_sql_cannot_update_an_audit_event(event: AuditEvent):
    message = _refused("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [event.pk])

    assert "append-only" in message
    assert "UPDATE" in message
    event.refresh_from_db()
    assert event.reason == "kept"


def test_raw_sql_cannot_delete_an_audit_event(event: AuditEvent):
    message = _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    assert "append-only" in message
    assert "DELETE" in message
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_cannot_save_changes_to_an_audit_event(event: AuditEvent):
    event.reason = "edited"

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()

    event.refresh_from_db()
    assert event.reason == "kept"


def test_the_orm_cannot_update_audit_events_in_bulk(event: AuditEvent):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")

    assert AuditEvent.objects.get(pk=event.pk).reason == "kept"


def test_the_orm_cannot_delete_an_audit_event(event: AuditEvent):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_truncate_still_empties_the_table():
    audit_record(action="test.recorded")

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")

    assert not AuditEvent.objects.exists()


# What writes events ---------------------------------------------------------------------------


def test_signing_in_writes_an_event(world: World):
    user = world.coordinator.user

    Client().post("/accounts/login/", {"username": user.email, "password": PASSWORD})

    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == user
    assert event.object_type == "user"
    assert event.object_id == str(user.code)
    assert event.ip == "127.0.0.1"


def test_signing_out_writes_an_event(world: World):
    client = signed_in(world.coordinator.user)

    client.post("/accounts/logout/")

    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor == world.coordinator.user
    assert event.reason == ""


def test_a_failed_sign_in_writes_an_event_without_the_address(world: World):
    user = world.coordinator.user

    Client().post("/accounts/login/", {"username": user.email, "password": "wrong"})
    Client().post("/accounts/login/", {"username": "stranger@example.com", "password": "x"})

    known, unknown = AuditEvent.objects.filter(action="auth.login_failed").order_by("id")
    assert known.actor is None
    assert known.object_id == str(user.code)
    assert unknown.object_id == ""
    assert unknown.reason == "unknown account"
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "stranger@example.com" not in stored
    assert user.email not in stored
    assert "wrong" not in stored


def test_an_invitation_writes_an_event(world: World, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.admin.user).post(
            "/settings/users/invite/",
            {"email": "new@example.com", "role": Role.COORDINATOR, "sites": [world.site_a.pk]},
        )

    event = AuditEvent.objects.get(action="membership.invited")
    assert event.actor == world.admin.user
    assert event.organization == world.org_a
    assert event.object_type == "membership"
    assert event.changes["role"] == {"old": None, "new": "coordinator"}
    assert event.changes["restricted_sites"] == {"old": None, "new": [str(world.site_a.code)]}


def test_a_role_change_and_a_restriction_change_each_write_an_event(world: World):
    signed_in(world.admin.user).post(
        f"/settings/users/{world.site_lead.code}/",
        {"role": Role.COORDINATOR, "study_sites": [world.study_site_a2.pk]},
    )

    role = AuditEvent.objects.get(action="membership.role_changed")
    assert role.object_id == str(world.site_lead.code)
    assert role.changes == {"role": {"old": "site_lead", "new": "coordinator"}}
    restriction = AuditEvent.objects.get(action="membership.restrictions_changed")
    assert restriction.changes == {
        "restricted_study_sites": {"old": [], "new": [str(world.study_site_a2.code)]}
    }


def test_saving_a_member_unchanged_writes_no_event(world: World):
    admin = signed_in(world.admin.user)
    before = AuditEvent.objects.count()

    response = admin.post(
        f"/settings/users/{world.coordinator.code}/",
        {"role": Role.COORDINATOR, "study_sites": [world.study_site_a.pk]},
    )

    assert response.status_code == 302
    assert AuditEvent.objects.count() == before


def test_deactivation_and_reactivation_write_events_with_the_reason(world: World):
    client = signed_in(world.admin.user)

    client.post(f"/settings/users/{world.coordinator.code}/deactivate/", {"reason": "Left"})
    client.post(f"/settings/users/{world.coordinator.code}/reactivate/")

    deactivated = AuditEvent.objects.get(action="membership.deactivated")
    assert deactivated.reason == "Left"
    assert deactivated.changes == {"is_active": {"old": True, "new": False}}
    assert AuditEvent.objects.filter(action="membership.reactivated").count() == 1


def test_being_signed_out_by_a_deactivation_writes_the_reason(world: World):
    client = signed_in(world.coordinator.user)
    assert client.get("/queue/").status_code == 200
    signed_in(world.admin.user).post(f"/settings/users/{world.coordinator.code}/deactivate/")

    client.get("/queue/")

    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor == world.coordinator.user
    assert event.reason == "Your access to this organization was removed."


def test_a_refused_change_writes_no_event(world: World):
    admin = signed_in(world.admin.user)
    before = AuditEvent.objects.count()

    # The only org admin may not demote themselves.
    response = admin.post(f"/settings/users/{world.admin.code}/", {"role": "site_lead"})

    assert response.status_code == 200
    assert AuditEvent.objects.count() == before


def test_site_and_study_site_changes_write_events(world: World):
    client = signed_in(world.admin.user)
    client.post(
        f"/settings/sites/{world.site_a.code}/",
        {
            "name": "A North",
            "timezone": "America/Denver",
            "opens_at": "09:00",
            "closes_at": "17:00",
            "business_days": ["1", "2", "3", "4", "5"],
            "country": "United States",
            "city": "Chicago",
            "state": "Illinois",
            "postal_code": "60601",
        },
    )

    event = AuditEvent.objects.get(action="site.updated")
    assert event.changes == {"timezone": {"old": "America/Chicago", "new": "America/Denver"}}


# PHI ------------------------------------------------------------------------------------------


def test_changed_fields_names_phi_fields_without_their_values():
    changes = changed_fields(
        old={"date_of_birth": "1961-04-02", "phone": "+13125550100", "status": "new"},
        new={"date_of_birth": "1961-04-20", "phone": "+13125550199", "status": "contacting"},
        phi=["date_of_birth", "phone"],
    )

    assert changes == {
        "date_of_birth": {"phi": True},
        "phone": {"phi": True},
        "status": {"old": "new", "new": "contacting"},
    }


def test_an_unchanged_phi_field_is_not_mentioned():
    changes = changed_fields(
        old={"phone": "+13125550100", "status": "new"},
        new={"phone": "+13125550100", "status": "contacting"},
        phi=["phone"],
    )

    assert "phone" not in changes


def test_a_stored_event_keeps_no_phi_value(world: World):
    audit_record(
        action="person.updated",
        actor=world.coordinator.user,
        organization=world.org_a,
        changes=changed_fields(
            old={"last_name": "Okafor", "email": "ada@example.org"},
            new={"last_name": "Okafor-Reyes", "email": "ada.r@example.org"},
            phi=["last_name", "email"],
        ),
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT changes::text FROM audit_auditevent WHERE action = 'person.updated'")
        (stored,) = cursor.fetchone()
    assert json.loads(stored) == {"email": {"phi": True}, "last_name": {"phi": True}}
    for value in ("Okafor", "ada@example.org", "ada.r@example.org"):
        assert value not in stored


def test_a_bulk_write_records_one_event_per_object_at_once(world: World):
    codes = ["a1", "b2", "c3"]
    written = audit_record_many(
        action="lead.created",
        actor_id=world.admin.user.pk,
        organization_id=world.org_a.pk,
        object_type="lead",
        object_ids=codes,
        changes={"import": {"old": None, "new": "x"}},
        reason="CSV import x",
    )
    assert written == 3
    events = AuditEvent.objects.filter(action="lead.created").order_by("object_id")
    assert [e.object_id for e in events] == codes
    assert {(e.actor_id, e.organization_id, e.reason) for e in events} == {
        (world.admin.user.pk, world.org_a.pk, "CSV import x")
    }
    assert events[0].changes == {"import": {"old": None, "new": "x"}}
