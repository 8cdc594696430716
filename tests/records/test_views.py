"""The records screens: the lead page's panel (with and without htmx), the item actions, the
request letters, the checklist editor and the provider directory."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse

from leads.models import Lead, Status
from records.models import ItemState, Provider, RecordItem, RecordRequirement
from records.services import provider_create, provider_update, record_item_request
from tests.conftest import World, signed_in
from tests.leads.conftest import actor_of
from tests.records.conftest import TODAY, fresh_lead, items_of

HTMX = {"HX-Request": "true"}


def _action_url(lead: Lead, item: RecordItem, action: str) -> str:
    return reverse(
        "record_item_action", kwargs={"code": lead.code, "item": item.code, "action": action}
    )


def _request_data(provider: Provider, **changes: str) -> dict[str, str]:
    data = {
        "provider": str(provider.pk),
        "method": "fax",
        "requested_on": TODAY.isoformat(),
        "due_on": (TODAY + datetime.timedelta(days=7)).isoformat(),
        "authorization_on_file": "on",
    }
    return {**data, **changes}


def test_the_lead_page_shows_the_checklist_with_an_action_per_item(
    world: World, records_lead: Lead
):
    body = signed_in(world.coordinator.user).get(
        reverse("lead_detail", kwargs={"code": records_lead.code})
    )

    html = body.content.decode()
    assert 'id="records"' in html
    assert "0 of 2 required records reviewed sufficient" in html
    assert "HbA1c within 90 days" in html
    assert "Allergy list</strong> <small>(optional)</small>" in html
    item = items_of(records_lead)["HbA1c"]
    assert f'href="{_action_url(records_lead, item, "request")}"' in html


def test_a_lead_without_record_items_shows_no_records_panel(world: World, lead: Lead):
    html = signed_in(world.coordinator.user).get(reverse("lead_detail", kwargs={"code": lead.code}))

    assert 'id="records"' not in html.content.decode()


def test_a_coordinator_requests_receives_and_reviews_without_javascript(
    world: World, records_lead: Lead, provider: Provider, clock
):
    client = signed_in(world.coordinator.user)
    lead_url = reverse("lead_detail", kwargs={"code": records_lead.code})
    for name in ("HbA1c", "Colonoscopy report"):
        item = items_of(records_lead)[name]
        form = client.get(_action_url(records_lead, item, "request"))
        assert form.status_code == 200
        assert "Denver Family Practice" in form.content.decode()

        response = client.post(_action_url(records_lead, item, "request"), _request_data(provider))
        assert response.status_code == 302
        assert response["Location"] == f"{lead_url}#records"
        response = client.post(
            _action_url(records_lead, item, "receive"),
            {"received_on": TODAY.isoformat(), "record_date": "2025-05-01"},
        )
        assert response.status_code == 302
        response = client.post(_action_url(records_lead, item, "review"), {"sufficient": "yes"})
        assert response.status_code == 302

    assert fresh_lead(records_lead).status == Status.RECORDS_READY
    page = client.get(lead_url).content.decode()
    assert "2 of 2 required records reviewed sufficient" in page
    assert "<strong>Records</strong> HbA1c within 90 days: reviewed, sufficient" in page


def test_an_htmx_action_loads_its_form_into_the_panel_and_reloads_the_page_after_saving(
    world: World, records_lead: Lead, provider: Provider, clock
):
    client = signed_in(world.coordinator.user)
    item = items_of(records_lead)["HbA1c"]
    url = _action_url(records_lead, item, "request")

    fragment = client.get(url, headers=HTMX)
    saved = client.post(url, _request_data(provider), headers=HTMX)

    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert f'hx-post="{url}"' in fragment.content.decode()
    assert saved.status_code == 200
    assert saved["HX-Refresh"] == "true"
    item.refresh_from_db()
    assert item.state == ItemState.REQUESTED


def test_a_refused_input_comes_back_with_its_message_and_changes_nothing(
    world: World, records_lead: Lead, provider: Provider, clock
):
    client = signed_in(world.coordinator.user)
    item = items_of(records_lead)["HbA1c"]
    url = _action_url(records_lead, item, "request")

    page = client.post(url, _request_data(provider, due_on="2025-06-01"))
    fragment = client.post(url, _request_data(provider, due_on="2025-06-01"), headers=HTMX)

    assert page.status_code == 422
    assert "The due date cannot be before the request." in page.content.decode()
    assert fragment.status_code == 200
    assert "The due date cannot be before the request." in fragment.content.decode()
    item.refresh_from_db()
    assert item.state == ItemState.NEEDED


def test_an_action_the_items_state_does_not_offer_is_a_404(world: World, records_lead: Lead):
    item = items_of(records_lead)["HbA1c"]

    response = signed_in(world.coordinator.user).get(_action_url(records_lead, item, "review"))

    assert response.status_code == 404


def test_an_item_of_another_lead_is_a_404_under_this_lead(
    world: World, records_lead: Lead, lead: Lead
):
    item = items_of(records_lead)["HbA1c"]

    response = signed_in(world.coordinator.user).get(_action_url(lead, item, "request"))

    assert response.status_code == 404


def test_the_request_letters_have_one_page_per_provider_with_the_patient_and_authorisation(
    world: World, records_lead: Lead, provider: Provider, clock
):
    other = provider_create(
        organization_id=world.org_a.pk, actor=actor_of(world), practice="Aurora GI", phone="1"
    )
    items = items_of(records_lead)
    for name, who, authorized in (("HbA1c", provider, True), ("Colonoscopy report", other, False)):
        record_item_request(
            item=items[name], provider=who, method="fax", requested_on=TODAY,
            due_on=TODAY + datetime.timedelta(days=5), authorization_on_file=authorized,
            actor=actor_of(world),
        )  # fmt: skip
    person = records_lead.person
    person.date_of_birth = datetime.date(1970, 3, 2)
    person.save()

    response = signed_in(world.coordinator.user).get(
        reverse("records_letters", kwargs={"code": records_lead.code})
    )

    html = response.content.decode()
    assert html.count('<article class="letter">') == 2
    assert "css/records-letter" in html
    aurora, denver = html.split('<article class="letter">')[1:]
    assert "To: Aurora GI" in aurora
    assert "Colonoscopy report" in aurora
    assert "HbA1c" not in aurora
    assert "not yet on file" in aurora
    assert "HbA1c within 90 days" in denver
    assert "on file, enclosed" in denver
    assert f"{person.full_name}" in denver
    assert "1970-03-02" in denver
    assert "June 9, 2025" in denver


def test_a_site_lead_builds_the_checklist(world: World, clock):
    client = signed_in(world.site_lead.user)
    url = reverse("records_checklist", kwargs={"code": world.study_site_a.code})

    added = client.post(
        url, {"name": "HbA1c", "required": "on", "lookback_days": "90", "instructions": "Lab"}
    )
    refused = client.post(url, {"name": "hba1c", "lookback_days": "0"})

    assert added.status_code == 302
    assert refused.status_code == 422
    assert "Give a window of at least a day." in refused.content.decode()
    requirement = RecordRequirement.objects.get(study_site=world.study_site_a)
    assert (requirement.label, requirement.required) == ("HbA1c within 90 days", True)
    edit = reverse("records_requirement_edit", kwargs={"code": requirement.code})
    assert client.post(edit, {"name": "HbA1c", "lookback_days": "60"}).status_code == 302
    requirement.refresh_from_db()
    assert (requirement.lookback_days, requirement.required) == (60, False)
    archive = reverse("records_requirement_archive", kwargs={"code": requirement.code})
    assert client.post(archive).status_code == 302
    assert "No items yet." in client.get(url).content.decode()


def test_any_member_adds_a_provider_to_the_directory(world: World):
    client = signed_in(world.coordinator.user)
    url = reverse("records_providers")

    added = client.post(url, {"practice": "Denver Family Practice", "fax": "+13035550199"})
    unreachable = client.post(url, {"practice": "Nowhere Clinic"})

    assert added.status_code == 302
    assert unreachable.status_code == 422
    assert "Give at least one way to reach the provider." in unreachable.content.decode()
    provider = Provider.objects.get(organization=world.org_a)
    assert provider.practice == "Denver Family Practice"
    edit = reverse("records_provider_edit", kwargs={"code": provider.code})
    client.post(edit, {"practice": "Denver Family Practice", "email": "records@dfp.example"})
    provider.refresh_from_db()
    assert (provider.fax, provider.email) == ("", "records@dfp.example")
    assert "records@dfp.example" in client.get(url).content.decode()


def test_the_directory_lists_only_the_organizations_own_providers(world: World, provider: Provider):
    client: Client = signed_in(world.outsider.user)

    assert "Denver Family Practice" not in client.get(reverse("records_providers")).content.decode()


def test_what_people_typed_is_shown_as_text_never_run(
    world: World, records_lead: Lead, provider: Provider, clock
):
    script = "<script>alert(1)</script>"
    provider_update(provider=provider, actor=actor_of(world), practice=f"Clinic {script}")
    item = items_of(records_lead)["HbA1c"]
    record_item_request(
        item=item, provider=provider, method="fax", requested_on=TODAY, due_on=TODAY,
        authorization_on_file=False, actor=actor_of(world),
    )  # fmt: skip
    client = signed_in(world.coordinator.user)

    for url in (
        reverse("lead_detail", kwargs={"code": records_lead.code}),
        reverse("records_letters", kwargs={"code": records_lead.code}),
        reverse("records_providers"),
        f"{reverse('queue')}?tab=records",
    ):
        html = client.get(url).content.decode()
        assert script not in html, url
        assert "Clinic &lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_the_checklist_offers_the_new_item_to_the_leads_waiting_on_records(
    world: World, records_lead, clock
):
    client = signed_in(world.site_lead.user)
    url = reverse("records_checklist", kwargs={"code": world.study_site_a.code})

    page = client.get(url).content.decode()
    added = client.post(url, {"name": "ECG", "add_to_waiting": "on"}, follow=True)

    assert "Also add it to the 1 lead waiting on records now" in page
    assert "to the checklist and to the 1 lead waiting." in added.content.decode()
    assert RecordItem.objects.filter(lead=records_lead, requirement__name="ECG").exists()
