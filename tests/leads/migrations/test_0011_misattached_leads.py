"""Migration 0011 flags leads attached, before the identity rule, to someone the submission does
not name, for review on the duplicates page; it moves nothing."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from leads.models import Lead, Submission, SuspectedDuplicate
from tests.conftest import World, signed_in
from tests.factories import new_lead
from trialsnest.audit.models import AuditEvent

migration = importlib.import_module("leads.migrations.0011_misattached_leads")
DOB = datetime.date(1961, 5, 2)


def run_migration() -> None:
    """The migration's function, on the models as they were at that migration."""
    state = MigrationExecutor(connection).loader.project_state(
        ("leads", "0011_misattached_leads")
    )
    migration.flag_misattached_leads(state.apps, None)


def web_form(first_name: str, last_name: str, **more: Any) -> dict[str, Any]:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "phone": "+13122630142",
        "email": "linda@example.com",
        "postal_code": "60601",
        "preferred_time": "",
        "consent": ["email", "phone"],
        "site": "",
        "material": "",
        "language": "en",
        "consent_text_version": "en-2025-01",
        "attribution": {},
        **more,
    }


def attach(lead: Lead, payload: dict[str, Any], *, repeat: bool = False, channel: str = "web_form"):
    """A processed submission of `lead`: the one that made it, or later repeat interest."""
    submission = Submission.objects.create(
        organization_id=lead.organization_id,
        study_site_id=lead.study_site_id,
        channel=channel,
        payload=payload,
        lead=lead,
        processed_at=lead.received_at,
    )
    received = lead.received_at + datetime.timedelta(days=3 if repeat else 0)
    Submission.objects.filter(pk=submission.pk).update(received_at=received)
    submission.refresh_from_db()
    return submission


def linda_lead(world: World, study_site=None, **person: Any) -> Lead:
    return new_lead(
        study_site=study_site or world.study_site_a,
        person__first_name="Linda",
        person__last_name="Martinez",
        person__phone="+13122630142",
        person__email="linda@example.com",
        **{f"person__{k}": v for k, v in person.items()},
    )


def test_a_lead_whose_submission_names_someone_else_is_flagged_for_review(world: World):
    own = linda_lead(world)
    attach(own, web_form("Linda", "Martínez"))  # her own, spelled another way: fine
    walkers = new_lead(person=own.person, study_site=world.study_site_a2)
    walker_submission = attach(walkers, web_form("Walker", "Englishtest"))

    run_migration()

    suspicion = SuspectedDuplicate.objects.get()
    assert (suspicion.person, suspicion.matched, suspicion.lead) == (own.person, None, walkers)
    assert suspicion.submission == walker_submission
    assert suspicion.reason == "Interest submitted as “Walker Englishtest” was attached to this person."
    assert suspicion.organization == world.org_a
    assert suspicion.resolved_at is None
    # Nothing was moved or rewritten.
    assert Lead.objects.get(pk=walkers.pk).person == own.person
    event = AuditEvent.objects.get(action="person.suspected_misattached")
    assert event.object_id == str(own.person.code)
    assert event.changes == {"lead": {"old": None, "new": str(walkers.code)}}


def test_another_date_of_birth_and_repeat_interest_are_flagged_too_and_once(world: World):
    born = linda_lead(world, date_of_birth=DOB)
    attach(born, {**web_form("Linda", "Martinez"), "date_of_birth": "1990-01-01"}, channel="api")
    repeated = linda_lead(world, study_site=world.study_site_a2)
    attach(repeated, web_form("Linda", "Martinez"))
    attach(repeated, web_form("Carlos", "Martinez"), repeat=True)
    attach(repeated, web_form("Walker", "Englishtest"), repeat=True)

    run_migration()
    run_migration()  # a second run finds what the first one flagged and adds nothing

    reasons = dict(SuspectedDuplicate.objects.values_list("lead_id", "reason"))
    assert reasons == {
        born.pk: "Interest submitted with another date of birth was attached to this person.",
        repeated.pk: "Interest submitted as “Carlos Martinez” was logged as repeat interest on "
        "this person's lead.",
    }
    assert AuditEvent.objects.filter(action="person.suspected_misattached").count() == 2


def test_leads_whose_submissions_agree_are_left_alone(world: World):
    for first, last in (("LINDA", "martinez"), ("L", "Martinez"), ("Linda", "")):
        lead = linda_lead(world)
        attach(lead, web_form(first, last))
        Lead.objects.filter(pk=lead.pk).update(status="closed", close_reason="duplicate")

    run_migration()

    assert not SuspectedDuplicate.objects.exists()


def test_flagged_leads_appear_on_the_duplicates_page_for_review(world: World):
    own = linda_lead(world)
    walkers = new_lead(person=own.person, study_site=world.study_site_a2)
    attach(walkers, web_form("Walker", "Englishtest"))
    run_migration()

    page = signed_in(world.site_lead.user).get(reverse("duplicate_list")).content.decode()

    assert "Interest submitted as “Walker Englishtest” was attached to this person." in page
    assert "Submitted as Walker Englishtest" in page
    assert "Linda Martinez" in page
    suspicion = SuspectedDuplicate.objects.get()
    assert reverse("suspicion_separate", kwargs={"code": suspicion.code}) in page
    assert "It is this person" in page
