"""A lead that came from someone else's submission moves, once a human confirms, to a new
person made from that submission; "it is this person" keeps it where it is."""

from __future__ import annotations

from django.urls import reverse

from leads.models import DuplicateDismissal, Lead, Person, SuspectedDuplicate
from tests.conftest import World, signed_in
from tests.leads.migrations.test_0011_misattached_leads import (
    attach,
    linda_lead,
    run_migration,
    web_form,
)
from trialsnest.audit.models import AuditEvent


def _flagged(world: World, *, repeat: bool = False) -> tuple[Lead, SuspectedDuplicate]:
    own = linda_lead(world, consent_phone=False, consent_email=False, consent_sms=False)
    if repeat:
        attach(own, web_form("Linda", "Martinez"))
        attach(own, web_form("Walker", "Englishtest"), repeat=True)
        run_migration()
        return own, SuspectedDuplicate.objects.get()
    walkers = linda_lead(world, study_site=world.study_site_a2)
    Lead.objects.filter(pk=walkers.pk).update(person=own.person)
    attach(walkers, web_form("Walker", "Englishtest"))
    run_migration()
    return Lead.objects.get(pk=walkers.pk), SuspectedDuplicate.objects.get()


def test_moving_asks_first_then_makes_a_person_from_the_submission(world: World):
    lead, suspicion = _flagged(world)
    linda = suspicion.person
    client = signed_in(world.site_lead.user)
    url = reverse("suspicion_separate", kwargs={"code": suspicion.code})

    page = client.get(url).content.decode()
    assert "Walker" in page
    assert "Linda Martinez" in page
    assert "Check Linda Martinez's consent with them" in page
    client.post(url)  # no confirm: nothing happens
    assert Lead.objects.get(pk=lead.pk).person == linda

    response = client.post(url, {"confirm": "yes"}, follow=True)

    assert "The lead moved to a new record for Walker Englishtest" in response.content.decode()
    walker = Person.objects.get(first_name="Walker")
    assert Lead.objects.get(pk=lead.pk).person == walker
    assert (walker.phone, walker.email) == (linda.phone, linda.email)
    assert (walker.consent_phone, walker.consent_email, walker.consent_sms) == (True, True, False)
    assert walker.consent_text_version == "en-2025-01"
    linda.refresh_from_db()
    assert (linda.first_name, linda.consent_phone) == ("Linda", False)
    suspicion.refresh_from_db()
    assert suspicion.resolution == SuspectedDuplicate.Resolution.SEPARATED
    assert suspicion.resolved_by == world.site_lead.user
    assert DuplicateDismissal.objects.filter(person_a=linda, person_b=walker).exists()
    event = AuditEvent.objects.get(action="lead.person_separated")
    assert event.changes["person"] == {"old": str(linda.code), "new": str(walker.code)}
    assert lead.activities.filter(text__startswith="Moved to a record of its own").exists()
    # Reviewed: it is off the page, and a second move is refused.
    assert "Walker" not in client.get(reverse("duplicate_list")).content.decode()
    client.post(url, {"confirm": "yes"})
    assert Person.objects.filter(first_name="Walker").count() == 1


def test_repeat_interest_on_the_persons_own_lead_is_not_moved(world: World):
    own, suspicion = _flagged(world, repeat=True)
    client = signed_in(world.site_lead.user)

    page = client.get(reverse("duplicate_list")).content.decode()
    response = client.post(
        reverse("suspicion_separate", kwargs={"code": suspicion.code}),
        {"confirm": "yes"},
        follow=True,
    )

    assert reverse("suspicion_separate", kwargs={"code": suspicion.code}) not in page
    assert "was repeat interest logged on the person" in response.content.decode()
    assert Lead.objects.get(pk=own.pk).person == suspicion.person
    assert not Person.objects.filter(first_name="Walker").exists()


def test_it_is_this_person_keeps_the_lead_and_resolves_the_review_audited(world: World):
    lead, suspicion = _flagged(world)

    signed_in(world.admin.user).post(reverse("suspicion_dismiss", kwargs={"code": suspicion.code}))

    suspicion.refresh_from_db()
    assert suspicion.resolution == SuspectedDuplicate.Resolution.CONFIRMED
    assert Lead.objects.get(pk=lead.pk).person == suspicion.person
    event = AuditEvent.objects.get(action="person.suspicion_confirmed")
    assert event.changes["lead"]["new"] == str(lead.code)


def test_another_organizations_review_is_a_404(world: World):
    lead, suspicion = _flagged(world)
    url = reverse("suspicion_separate", kwargs={"code": suspicion.code})
    outsider = signed_in(world.outsider.user)

    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"confirm": "yes"}).status_code == 404
    assert Lead.objects.get(pk=lead.pk).person == suspicion.person
