"""The interest form: one lead per interest, nothing lost, nothing created by bots or floods."""

from __future__ import annotations

import logging
import re

from django.test import Client, TestCase

from leads.models import Activity, ActivityKind, Lead, Person, Source, Status, Submission
from leads.public.catalog import forget_catalog
from leads.public.forms import CONSENT_TEXT_VERSION
from leads.tasks import retry_submissions
from tests.conftest import World
from tests.factories import MembershipFactory, SiteFactory, StudySiteFactory
from tests.leads.visitors import interest_form, new_visitor, recruiting
from tests.ops.test_settings import manage
from trialsnest.audit.models import AuditEvent
from trialsnest.tenancy.models import Role


def _nothing_created() -> bool:
    return not (Submission.objects.exists() or Lead.objects.exists() or Person.objects.exists())


def test_a_valid_submission_becomes_one_owned_lead_with_a_next_action(
    world: World, visitor: Client
):
    study = world.study_site_a.study
    query = "utm_source=facebook&utm_campaign=spring&material=FLYER-V3"
    url = f"/studies/sites/{world.study_site_a.code}/?{query}"
    page = visitor.get(url, HTTP_REFERER="https://www.facebook.com/some/post?fbclid=secret")
    hidden = dict(
        re.findall(
            r'<input type="hidden" name="(utm_\w+|campaign|referrer)" value="([^"]*)">',
            page.content.decode(),
        )
    )

    response = visitor.post(
        url, {**interest_form(site=str(world.study_site_a.code), material="FLYER-V3"), **hidden}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.code}/thanks/"
    lead = Lead.objects.get()
    assert lead.study_site == world.study_site_a
    assert lead.source == Source.WEB_FORM
    assert lead.status == Status.NEW
    assert lead.owner is not None
    assert lead.next_action == "first_contact"
    assert lead.next_action_due_at is not None
    assert lead.campaign == "spring"
    assert lead.utm == {
        "utm_source": "facebook",
        "utm_campaign": "spring",
        "referrer": "https://www.facebook.com/some/post",
    }
    assert lead.material_version == "FLYER-V3"
    person = lead.person
    assert (person.first_name, person.last_name) == ("Ana", "Lopez")
    assert (person.phone, person.email, person.postal_code) == (
        "+13122630142",
        "ana.lopez@example.com",
        "60601",
    )
    assert (person.consent_phone, person.consent_sms, person.consent_email) == (True, False, True)
    assert person.consent_text_version == f"{CONSENT_TEXT_VERSION}/en"
    assert person.preferred_time == "morning"
    assert person.preferred_language == "en"
    submission = Submission.objects.get()
    assert submission.lead == lead
    assert submission.processed_at is not None
    assert submission.error == ""
    assert submission.channel == Submission.Channel.WEB_FORM
    assert submission.payload["first_name"] == "Ana"
    assert submission.payload["consent"] == ["email", "phone"]
    assert AuditEvent.objects.filter(
        action="submission.received", object_id=str(submission.pk)
    ).exists()


def test_the_confirmation_says_what_happens_next_without_medical_promises(
    world: World, visitor: Client
):
    response = visitor.post(
        f"/studies/{world.study_site_a.study.code}/", interest_form(), follow=True
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "we received your interest" in page
    assert "A study coordinator from the research site will contact you" in page
    assert "eligib" not in page.lower()
    assert "Ana" not in page
    assert "ana.lopez@example.com" not in page


def test_every_invalid_field_gets_its_message_next_to_it_and_nothing_typed_is_lost(
    world: World, visitor: Client
):
    data = interest_form(
        site="not-a-site",
        first_name="",
        last_name="",
        phone="12",
        email="ana at example",
        postal_code="!!",
        consent=None,
        material="M" * 61,
        preferred_time="midnight",
    )

    response = visitor.post(f"/studies/{world.study_site_a.study.code}/", data)

    page = response.content.decode()
    assert response.status_code == 200
    assert _nothing_created()
    fields = [
        "site",
        "first_name",
        "last_name",
        "phone",
        "email",
        "postal_code",
        "consent",
        "material",
        "preferred_time",
    ]
    assert set(response.context["form"].errors) == set(fields)
    for field in fields:
        assert f'id="id_{field}_error"' in page, field
        # The summary at the top links to the field.
        assert re.search(rf'<a href="#id_{field}(_0)?">', page), field
    for field in ("first_name", "last_name", "phone", "email", "postal_code", "material"):
        control = re.findall(rf'<input [^>]*name="{field}"[^>]*>', page)[0]
        assert 'aria-invalid="true"' in control, field
        assert f"id_{field}_error" in control, field
    fieldsets = re.findall(r'<fieldset aria-describedby="([^"]+)">', page)
    assert {"id_site_error", "id_consent_error", "id_preferred_time_error"} <= {
        d.split()[-1] for d in fieldsets
    }
    # What was typed comes back.
    assert 'value="12"' in page
    assert 'value="ana at example"' in page
    assert 'value="!!"' in page
    assert f'value="{"M" * 61}"' in page


def test_a_phone_or_an_email_is_needed_and_each_chosen_channel_needs_its_contact(
    world: World, visitor: Client
):
    url = f"/studies/{world.study_site_a.study.code}/"

    neither = visitor.post(url, interest_form(phone="", email=""))
    calls_without_phone = visitor.post(url, interest_form(phone="", consent=["sms", "email"]))
    email_without_address = visitor.post(url, interest_form(email="", consent=["email"]))

    assert neither.context["form"].errors.keys() == {"phone", "email"}
    assert calls_without_phone.context["form"].errors.keys() == {"phone"}
    assert email_without_address.context["form"].errors.keys() == {"email"}
    assert _nothing_created()


def test_the_honeypot_refuses_politely_without_creating_anything(world: World, visitor: Client):
    response = visitor.post(
        f"/studies/{world.study_site_a.study.code}/", interest_form(website="http://spam.example")
    )

    assert response.status_code == 400
    assert "we could not accept this form" in response.content.decode()
    assert 'value="ana.lopez@example.com"' in response.content.decode()
    assert _nothing_created()


def test_the_rate_limit_refuses_with_429_without_creating_anything(world: World, settings):
    settings.INTEREST_RATE_LIMIT = "2/hour"
    visitor, other = new_visitor(), new_visitor()
    url = f"/studies/{world.study_site_a.study.code}/"
    for n in range(2):
        assert (
            visitor.post(
                url, interest_form(email=f"p{n}@example.com", phone="", consent=["email"])
            ).status_code
            == 302
        )
    counts = (Submission.objects.count(), Lead.objects.count(), Person.objects.count())

    refused = visitor.post(url, interest_form(email="p3@example.com", phone="", consent=["email"]))

    assert refused.status_code == 429
    assert "Please wait an hour" in refused.content.decode()
    assert 'value="p3@example.com"' in refused.content.decode()
    assert (Submission.objects.count(), Lead.objects.count(), Person.objects.count()) == counts
    # Someone else, from another address, is not held back.
    assert (
        other.post(
            url, interest_form(email="p4@example.com", phone="", consent=["email"])
        ).status_code
        == 302
    )


def test_invalid_forms_do_not_count_against_the_rate_limit(world: World, settings):
    settings.INTEREST_RATE_LIMIT = "1/hour"
    visitor = new_visitor()
    url = f"/studies/{world.study_site_a.study.code}/"
    for _ in range(3):
        assert visitor.post(url, interest_form(first_name="")).status_code == 200

    assert visitor.post(url, interest_form()).status_code == 302


def test_a_second_submission_for_the_same_study_site_is_repeat_interest(
    world: World, visitor: Client
):
    url = f"/studies/sites/{world.study_site_a.code}/"
    visitor.post(url, interest_form(site=str(world.study_site_a.code)))

    again = visitor.post(
        url,
        interest_form(
            site=str(world.study_site_a.code), phone="312.263.0142", email="", consent=["phone"]
        ),
    )

    assert again.status_code == 302
    lead = Lead.objects.get()
    assert Person.objects.count() == 1
    assert [s.lead_id for s in Submission.objects.all()] == [lead.pk, lead.pk]
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.REPEAT_INTEREST).count() == 1


def test_any_site_goes_to_the_site_its_organization_ranks_first(world: World, visitor: Client):
    world.study_site_b.rank = 5
    world.study_site_b.save()
    org_a_second = recruiting(
        organization=world.org_a, name="A West", study=world.study_site_a.study, rank=1
    )
    study_url = f"/studies/{world.study_site_a.study.code}/"

    visitor.post(study_url, interest_form(email="one@example.com", phone="", consent=["email"]))
    # From org A's site page, "any site" stays with org A: its best-ranked StudySite.
    visitor.post(
        f"/studies/sites/{world.study_site_a.code}/",
        interest_form(email="two@example.com", phone="", consent=["email"]),
    )

    assert Lead.objects.get(person__email="one@example.com").study_site == org_a_second
    assert Lead.objects.get(person__email="two@example.com").study_site == org_a_second
    world.study_site_b.rank = 0
    world.study_site_b.save()
    forget_catalog()  # processes keep the public catalog for CATALOG_SECONDS
    visitor.post(study_url, interest_form(email="three@example.com", phone="", consent=["email"]))
    assert Lead.objects.get(person__email="three@example.com").study_site == world.study_site_b


def test_a_study_with_one_recruiting_site_asks_no_site(world: World, visitor: Client):
    url = f"/studies/{world.study_site_a2.study.code}/"

    assert 'name="site"' not in visitor.get(url).content.decode()
    assert visitor.post(url, interest_form(site=None)).status_code == 302
    assert Lead.objects.get().study_site == world.study_site_a2


def test_a_failing_intake_keeps_the_submission_and_still_thanks_the_visitor(
    db, visitor: Client, caplog
):
    nobody_home = recruiting()  # an organization without members: no one can own the lead

    with caplog.at_level(logging.WARNING, logger="leads.public"):
        response = visitor.post(f"/studies/{nobody_home.study.code}/", interest_form(), follow=True)

    assert response.status_code == 200
    assert "we received your interest" in response.content.decode()
    submission = Submission.objects.get()
    assert submission.processed_at is None
    assert submission.lead is None
    assert "ValidationError" in submission.error
    assert not Lead.objects.exists()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"submission {submission.pk} kept unprocessed" in logged
    assert "Ana" not in logged
    assert "ana.lopez" not in logged
    assert "2630142" not in logged


def test_the_retry_task_turns_a_kept_submission_into_one_lead_and_is_safe_twice(
    db, visitor: Client
):
    study_site = recruiting()
    visitor.post(f"/studies/{study_site.study.code}/", interest_form())
    assert _sweep() == 1  # still nobody to own it: kept
    MembershipFactory(organization=study_site.organization, role=Role.COORDINATOR)

    assert _sweep() == 1
    assert _sweep() == 0

    submission = Submission.objects.get()
    lead = Lead.objects.get()
    assert submission.lead == lead
    assert submission.processed_at is not None
    assert submission.error == ""
    # The lead keeps the time the visitor sent the form.
    assert lead.received_at == submission.received_at


def test_beat_retries_kept_submissions_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retry-submissions"]

    assert entry == {"task": retry_submissions.name, "schedule": 300.0}


def test_the_form_works_with_csrf_protection_and_needs_no_exemption(world: World):
    browser = new_visitor(enforce_csrf_checks=True)
    url = f"/studies/{world.study_site_a.study.code}/"

    forged = browser.post(url, interest_form())
    page = browser.get(url).content.decode()
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[0]
    genuine = browser.post(url, {**interest_form(), "csrfmiddlewaretoken": token})

    assert forged.status_code == 403
    assert genuine.status_code == 302
    assert Lead.objects.count() == 1


def test_a_bad_rate_limit_setting_stops_the_app_with_a_message_naming_it():
    result = manage("check", INTEREST_RATE_LIMIT="ten a minute")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "INTEREST_RATE_LIMIT" in result.stderr.splitlines()[-1]


def _sweep() -> int:
    """The retry task as beat runs it; the work it queues runs after its commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return int(retry_submissions.delay().get())


# Characters, lengths and postal codes ----------------------------------------------------------


def _errors(response) -> dict[str, list[str]]:
    return {
        name: [str(e) for e in errors] for name, errors in response.context["form"].errors.items()
    }


def test_an_escape_sequence_or_a_bell_in_a_name_is_refused(world: World, visitor: Client):
    url = f"/studies/{world.study_site_a.study.code}/"

    response = visitor.post(url, interest_form(first_name="Ana\x1b[2J", last_name="Lo\x07pez"))

    assert response.status_code == 200
    message = "Remove the control characters (such as Esc or a line break) from this text."
    assert _errors(response) == {"first_name": [message], "last_name": [message]}
    assert message in response.content.decode()
    assert _nothing_created()


def test_the_refusals_are_in_spanish_on_the_spanish_page(world: World, visitor: Client):
    url = f"/es/studies/{world.study_site_a.study.code}/"

    response = visitor.post(url, interest_form(first_name="Ana\x1b", last_name="L" * 101))

    page = response.content.decode()
    assert "Quite los caracteres de control (como Esc o un salto de línea) de este texto." in page
    assert "Acórtelo a 100 caracteres o menos (tiene 101)." in page
    assert _nothing_created()


def test_a_postal_code_is_checked_for_the_country_of_the_site(world: World, visitor: Client):
    toronto = StudySiteFactory(
        site=SiteFactory(city="Toronto", state="Ontario", postal_code="M5G 2C4", country="Canada")
    )
    MembershipFactory(organization=toronto.organization, role=Role.COORDINATOR)
    url = f"/studies/{toronto.study.code}/"

    us_zip = visitor.post(url, interest_form(postal_code="60601"))
    canadian = visitor.post(url, interest_form(postal_code="m5g2c4"))

    assert _errors(us_zip) == {"postal_code": ["Enter a postal code such as K1A 0B1."]}
    assert canadian.status_code == 302
    assert Person.objects.get().postal_code == "M5G 2C4"


def test_a_us_site_refuses_a_postal_code_that_is_no_zip_code(world: World, visitor: Client):
    url = f"/studies/{world.study_site_a.study.code}/"

    response = visitor.post(url, interest_form(postal_code="K1A 0B1"))

    assert _errors(response) == {"postal_code": ["Enter a ZIP code, such as 60601."]}
    assert _nothing_created()
