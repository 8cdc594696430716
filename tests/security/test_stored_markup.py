"""Markup typed into a person's name and a note is shown as text wherever it appears: the
queue (page and htmx rows), the lead page, search, the team page, the audit log, a text drafted
from a template, the printable records letters, and the e-mail's HTML part."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from leads import services
from leads.outreach.rendering import email_html
from leads.outreach.services.templates import message_template_create
from tests.conftest import World, signed_in
from trialsnest.audit.services import Actor

pytestmark = pytest.mark.django_db

MARKUP = '<script>alert("x")</script>'


@pytest.fixture
def lead(world: World):
    actor = Actor(user=None)
    person = services.person_create(
        organization=world.org_a, actor=actor, first_name=MARKUP, last_name='"><b>Bold',
        phone="(312) 555-0142",
    )  # fmt: skip
    lead = services.lead_create(
        person=person, study_site=world.study_site_a, source="web_form",
        owner=world.coordinator, actor=actor,
    )  # fmt: skip
    services.lead_add_note(lead=lead, text=f"Called. {MARKUP}", actor=actor)
    return lead


def test_markup_is_text_on_every_staff_screen(world: World, lead):
    coordinator = signed_in(world.coordinator.user)
    site_lead = signed_in(world.site_lead.user)
    pages = {
        "queue": coordinator.get("/queue/?tab=open"),
        "queue rows (htmx)": coordinator.get("/queue/?tab=open", headers={"HX-Request": "true"}),
        "lead page": coordinator.get(f"/leads/{lead.code}/"),
        "search": coordinator.get("/queue/search/", {"q": "Bold"}),
        "team": site_lead.get("/team/"),
        "audit log": site_lead.get("/audit/"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        body = page.content.decode()
        assert MARKUP not in body, name
        assert "<b>Bold" not in body, name
    for shown in ("lead page", "queue", "queue rows (htmx)"):
        assert escape(MARKUP) in pages[shown].content.decode(), shown


def test_the_email_html_part_escapes_the_text():
    html = email_html(f"Hello {MARKUP}\n\nSee you")
    assert MARKUP not in html
    assert escape(MARKUP) in html


def test_markup_is_text_in_a_message_drafted_from_a_template_and_in_the_letters(world: World, lead):
    template = message_template_create(
        organization=world.org_a, name="Hello", channel="sms", language="en", subject="",
        body="Hi {{ first_name }}, about the study", actor=Actor(world.admin.user),
    )  # fmt: skip
    client = signed_in(world.coordinator.user)

    draft = client.get(f"/leads/{lead.code}/messages/new/", {"template": str(template.code)})
    letters = client.get(f"/leads/{lead.code}/records/letters/")

    for page in (draft, letters):
        assert page.status_code == 200
        assert MARKUP not in page.content.decode()
    assert f"Hi {escape(MARKUP)}, about the study" in draft.content.decode()
