"""One pipeline for every door: a submission is kept and audited as it arrives, and made a lead
from what was kept; the web form's work is queued only once the submission is committed."""

from __future__ import annotations

from django.test import Client

from leads.intake.core import intake
from leads.intake.submissions import submission_process, submission_receive
from leads.models import Lead, Person, Source, Submission
from tests.conftest import World
from tests.leads.api.conftest import lead_body, make_key, post_lead
from tests.leads.visitors import fresh_address, interest_form
from trialsnest.audit.models import AuditEvent
from trialsnest.audit.services import Actor


def test_an_api_submission_is_audited_like_a_web_form_one(world: World):
    key = make_key(world)
    response = post_lead(key, lead_body(world), idempotency_key="k-1")
    assert response.status_code == 201
    submission = Submission.objects.get()
    event = AuditEvent.objects.get(action="submission.received")
    assert event.object_id == str(submission.pk)
    assert event.organization_id == world.org_a.pk
    # The payload is named, never copied into the audit trail.
    assert event.changes == {"payload": {"phi": True}, "channel": {"old": None, "new": "api"}}


def test_the_web_form_queues_its_work_only_after_the_submission_is_committed(
    world: World, django_capture_on_commit_callbacks
):
    visitor = Client(REMOTE_ADDR=fresh_address())
    url = f"/studies/{world.study_site_a.study.code}/"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = visitor.post(url, interest_form(site=str(world.study_site_a.code)))
    assert response.status_code == 302
    assert len(queued) == 1  # the task, waiting for the commit
    submission = Submission.objects.get()
    assert submission.processed_at is None
    assert not Lead.objects.exists()
    assert AuditEvent.objects.filter(action="submission.received").count() == 1

    queued[0]()  # the commit happens; the (eager) worker runs
    submission.refresh_from_db()
    assert submission.lead is not None
    assert submission.lead.person.first_name == "Ana"


def test_processing_a_submission_twice_makes_one_lead(world: World):
    submission = submission_receive(
        channel=Submission.Channel.WEB_FORM,
        study_site=world.study_site_a,
        payload={
            "first_name": "Ana",
            "last_name": "Lopez",
            "email": "ana@example.com",
            "consent": ["email"],
            "language": "en",
        },
        actor=Actor(user=None),
    )
    first = submission_process(submission_id=submission.pk)
    second = submission_process(submission_id=submission.pk)
    assert first is not None
    assert first.result is not None
    assert second is not None
    assert second.result is None
    assert second.submission.lead == first.result.lead
    assert Lead.objects.count() == 1
    assert submission_process(submission_id=submission.pk + 1000) is None


def test_intake_refuses_control_characters_and_a_wrong_postal_code_whatever_the_door(
    world: World,
):
    # A web-form submission kept before the form refused these (or from a door that skips it):
    # intake itself refuses, and the submission keeps the reason instead of making a person.
    submission = submission_receive(
        channel=Submission.Channel.WEB_FORM,
        study_site=world.study_site_a,
        payload={
            "first_name": "Ana\x1b[2J",
            "last_name": "Lopez",
            "email": "ana@example.com",
            "postal_code": "K1A 0B1",
            "consent": ["email"],
            "language": "en",
        },
        actor=Actor(user=None),
    )

    processed = submission_process(submission_id=submission.pk)

    assert processed is not None
    assert processed.result is None
    submission.refresh_from_db()
    assert submission.processed_at is None
    assert "first_name" in submission.error
    assert "Enter a ZIP code, such as 60601." in submission.error
    assert not Person.objects.exists()


def test_intake_normalises_the_postal_code_for_the_sites_country(world: World):
    result = intake(
        study_site=world.study_site_a,
        source=Source.WALK_IN,
        actor=Actor(user=None),
        person={"first_name": "Ana", "email": "ana@example.com", "postal_code": " 60601-1234 "},
    )

    assert result.person.postal_code == "60601-1234"
