"""The outreach screens: sending from the lead page, templates with versions and a preview,
the review inbox, and what a restricted coordinator may reach."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from leads.outreach.models import InboundMessage, MessageTemplate, OutboundMessage
from leads.outreach.services.templates import message_template_create
from leads.outreach.visits import Visit, _lookups, register_visit_lookup
from tests.conftest import World, signed_in
from tests.factories import new_lead
from tests.leads.outreach.conftest import text_in
from trialsnest.audit.services import Actor


def _send_url(lead) -> str:
    return reverse("outreach_message_new", kwargs={"code": lead.code})


def _template(world: World, body: str, channel: str = "sms", subject: str = "", **kw):
    return message_template_create(
        organization=world.org_a, name=kw.pop("name", "Hello"), channel=channel,
        language=kw.pop("language", "en"), subject=subject, body=body,
        actor=Actor(world.admin.user),
    )  # fmt: skip


def test_a_coordinator_sends_a_text_from_the_lead_page(
    world: World, sms_lead, sms_outbox, django_capture_on_commit_callbacks
):
    client = signed_in(world.coordinator.user)
    form = {"channel": "sms", "body": "Hi Maria", "key": "form-1"}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_send_url(sms_lead), form)

    assert response.status_code == 302
    assert response["Location"] == reverse("lead_detail", kwargs={"code": sms_lead.code})
    assert [s["body"] for s in sms_outbox.sent()] == ["Hi Maria"]
    page = client.get(response["Location"]).content.decode()
    assert "SMS · Sent" in page


def test_the_same_form_sent_twice_is_one_message(
    world: World, sms_lead, sms_outbox, django_capture_on_commit_callbacks
):
    client = signed_in(world.coordinator.user)
    form = {"channel": "sms", "body": "Hi Maria", "key": "form-1"}

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_send_url(sms_lead), form)
        client.post(_send_url(sms_lead), form)

    assert OutboundMessage.objects.count() == 1
    assert len(sms_outbox.sent()) == 1


def test_a_blocked_send_says_why(world: World, outreach, daytime):
    lead = new_lead(study_site=world.study_site_a, person__consent_email=False)
    client = signed_in(world.coordinator.user)

    response = client.post(
        _send_url(lead), {"channel": "email", "subject": "Hi", "body": "Hello", "key": "k"},
        follow=True,
    )  # fmt: skip

    assert "Not sent: No consent to E-mail." in response.content.decode()


def test_a_template_fills_the_form_with_the_leads_values(world: World, sms_lead):
    template = _template(world, "Hi {{ first_name }}, about {{ study_title }} at {{ site_name }}")

    page = signed_in(world.coordinator.user).get(_send_url(sms_lead), {"template": template.code})

    body = page.content.decode()
    title = sms_lead.study_site.study.brief_title
    assert f"Hi Maria, about {title} at A North" in body
    assert "1 segment (GSM-7" in body


def test_a_message_from_a_template_keeps_its_version(
    world: World, sms_lead, django_capture_on_commit_callbacks
):
    template = _template(world, "Hi {{ first_name }}")
    form = {
        "channel": "sms", "body": "Hi Maria", "key": "k", "template": str(template.code),
        "version": "1",
    }  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.coordinator.user).post(_send_url(sms_lead), form)

    message = OutboundMessage.objects.get()
    assert message.template_version == template.versions.get(number=1)


def test_an_edit_is_a_new_version_and_the_old_one_stays(world: World, sms_lead):
    template = _template(world, "Hi {{ first_name }}")
    client = signed_in(world.site_lead.user)
    url = reverse("outreach_template", kwargs={"code": template.code})

    response = client.post(url, {"body": "Hola {{ first_name }}"})

    assert response.status_code == 302
    versions = list(template.versions.order_by("number").values_list("number", "body"))
    assert versions == [(1, "Hi {{ first_name }}"), (2, "Hola {{ first_name }}")]
    preview = client.get(url, {"lead": str(sms_lead.code)}).content.decode()
    assert "Hola Maria" in preview


def test_an_unknown_variable_is_refused_with_the_list(world: World, outreach):
    response = signed_in(world.admin.user).post(
        reverse("outreach_templates"),
        {"name": "Bad", "channel": "sms", "language": "en", "body": "Hi {{ name }}"},
    )

    assert response.status_code == 422
    assert "Unknown variable: name" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_templates_come_in_english_and_spanish(world: World, outreach):
    client = signed_in(world.admin.user)
    for language, body in (("en", "Hi {{ first_name }}"), ("es", "Hola {{ first_name }}")):
        form = {"name": "Welcome", "channel": "sms", "language": language, "body": body}
        assert client.post(reverse("outreach_templates"), form).status_code == 302

    assert sorted(MessageTemplate.objects.values_list("language", flat=True)) == ["en", "es"]


def test_a_preview_with_another_organizations_lead_is_a_404(world: World, outreach):
    template = _template(world, "Hi {{ first_name }}")
    other = new_lead(study_site=world.study_site_b)
    url = reverse("outreach_template", kwargs={"code": template.code})

    assert signed_in(world.admin.user).get(url, {"lead": str(other.code)}).status_code == 404


@pytest.fixture
def visit_lookup():
    """Registers a stand-in lookup first in line; scheduling's own comes back afterwards."""
    kept = list(_lookups)
    _lookups.clear()
    yield register_visit_lookup
    _lookups[:] = kept


def test_a_visit_template_says_so_when_the_lead_has_no_visit(world: World, sms_lead):
    template = _template(world, "See you {{ visit_time }}")

    page = signed_in(world.coordinator.user).get(_send_url(sms_lead), {"template": template.code})

    assert "the lead has no visit" in page.content.decode()


def test_the_visit_time_comes_from_the_scheduling_seam_in_site_time(
    world: World, sms_lead, visit_lookup
):
    starts = datetime(2025, 6, 10, 14, 30, tzinfo=UTC)  # 09:30 in Chicago
    visit_lookup(lambda lead: Visit(starts_at=starts, address="1 Main St"))
    template = _template(world, "See you {{ visit_time }} at {{ visit_address }}")

    page = signed_in(world.coordinator.user).get(_send_url(sms_lead), {"template": template.code})

    assert "See you Tuesday June 10, 09:30 at 1 Main St" in page.content.decode()


# Restricted coordinator ------------------------------------------------------------------------


def test_a_restricted_coordinator_cannot_message_a_lead_of_another_study_site(
    world: World, outreach, daytime
):
    other = new_lead(study_site=world.study_site_a2)

    response = signed_in(world.coordinator.user).post(
        _send_url(other), {"channel": "sms", "body": "Hi", "key": "k"}
    )

    assert response.status_code == 404
    assert not OutboundMessage.objects.exists()


def test_the_inbox_shows_a_restricted_coordinator_only_their_study_sites(
    world: World, outreach, daytime
):
    mine = new_lead(study_site=world.study_site_a, person__phone="+13125550131")
    theirs = new_lead(study_site=world.study_site_a2, person__phone="+13125550132")
    for phone in (mine.person.phone, theirs.person.phone, "+13125550133"):
        text_in(organization_id=world.org_a.pk, from_number=phone, body="wrong number")
    hidden = InboundMessage.objects.get(lead=theirs)

    coordinator = signed_in(world.coordinator.user)
    page = coordinator.get(reverse("outreach_inbox")).content.decode()
    review = reverse("outreach_inbox_review", kwargs={"code": hidden.code})

    assert str(mine.code) in page
    assert str(theirs.code) not in page
    assert "+13125550133" not in page  # unknown numbers: for those who see every StudySite
    assert coordinator.post(review, {"decision": "opt_out"}).status_code == 404
    site_lead_page = signed_in(world.site_lead.user).get(reverse("outreach_inbox"))
    assert "+13125550133" in site_lead_page.content.decode()


def test_an_inbound_text_with_html_is_escaped_on_the_timeline(
    world: World, sms_lead, outreach, django_capture_on_commit_callbacks
):
    from django.test import Client

    url = reverse("outreach_sms_inbound", kwargs={"token": outreach.webhook_token})
    payload = {"from": sms_lead.person.phone, "body": "<img src=x onerror=alert(1)>"}
    with django_capture_on_commit_callbacks(execute=True):  # the worker acts on the text
        Client().post(url, json.dumps(payload), content_type="application/json")

    page = signed_in(world.coordinator.user).get(
        reverse("lead_detail", kwargs={"code": sms_lead.code})
    )
    body = page.content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_the_admin_sets_the_sms_number_that_routes_replies(world: World, outreach):
    client = signed_in(world.admin.user)

    response = client.post(
        reverse("outreach_settings"), {"sms_number": "(312) 555-0142", "help_contact": "Call us"}
    )

    assert response.status_code == 302
    outreach.refresh_from_db()
    assert outreach.sms_number == "+13125550142"


def test_one_number_cannot_serve_two_organizations(world: World, outreach):
    client = signed_in(world.outsider.user)  # org B's admin

    response = client.post(reverse("outreach_settings"), {"sms_number": outreach.sms_number})

    assert response.status_code == 422
    assert "Another organization sends from this number." in response.content.decode()


def test_the_owner_hears_of_a_reply_on_the_replies_page(world: World, sms_lead, outreach):
    text_in(organization_id=world.org_a.pk, from_number=sms_lead.person.phone, body="Tuesday works")

    owner_page = signed_in(sms_lead.owner.user).get(reverse("outreach_inbox")).content.decode()
    other_page = signed_in(world.site_lead.user).get(reverse("outreach_inbox")).content.decode()

    assert "Tuesday works" in owner_page
    assert "Tuesday works" not in other_page  # not their lead, and nothing to review
