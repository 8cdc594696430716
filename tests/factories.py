"""One factory per model; organizations come from sub-factories."""

from __future__ import annotations

from typing import Any, cast

import factory
from django.utils import timezone

from leads.models import Lead, Person, Source, SuspectedDuplicate
from leads.services import lead_build, lead_create, person_create
from leads.services.people import suspected_duplicate_record
from trialsnest.accounts.models import User
from trialsnest.audit.services import Actor
from trialsnest.studies.models import Sponsor, Study, StudySite
from trialsnest.tenancy.models import Membership, Organization, Role, Site, SponsorMembership

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    timezone = "America/Chicago"
    city = "Chicago"
    state = "Illinois"
    postal_code = "60601"


class SponsorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sponsor

    name = factory.Sequence(lambda n: f"Sponsor {n}")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    nct_id = factory.Sequence(lambda n: f"NCT{n:08d}")
    brief_title = factory.Sequence(lambda n: f"Study {n}")
    sponsor = factory.SubFactory(SponsorFactory)
    registry_status = "RECRUITING"
    conditions = factory.LazyFunction(lambda: ["Melanoma"])


class StudySiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudySite

    site = factory.SubFactory(SiteFactory)
    organization = factory.SelfAttribute("site.organization")
    study = factory.SubFactory(StudyFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.COORDINATOR


class SponsorMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SponsorMembership

    user = factory.SubFactory(UserFactory)
    sponsor = factory.SubFactory(SponsorFactory)


# Leads -------------------------------------------------------------------------------------
# People and leads are made by their services, so every lead a test sees keeps the invariant
# (owner, next action, due time) exactly as one made by the app would.


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organization = factory.SubFactory(OrganizationFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Valid US numbers (area code 312, exchanges 200 to 899), unique for 7 million people.
    phone = factory.Sequence(lambda n: f"+1312{200 + (n // 10000) % 700}{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    consent_phone = True
    consent_sms = True
    consent_email = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return person_create(actor=Actor(user=None), **kwargs)


class LeadFactory(factory.django.DjangoModelFactory):
    """A new lead through `lead_create`; the owner is chosen by the assignment rule unless given."""

    class Meta:
        model = Lead

    study_site = factory.SubFactory(StudySiteFactory)
    person = factory.SubFactory(
        PersonFactory, organization=factory.SelfAttribute("..study_site.organization")
    )
    source = Source.WEB_FORM

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.setdefault("actor", Actor(user=None))
        return lead_create(**kwargs)


def new_lead(**fields: Any) -> Lead:
    """LeadFactory with its real type (mypy cannot see through factory-boy's metaclass)."""
    return cast(Lead, LeadFactory(**fields))


class SuspectedDuplicateFactory(factory.django.DjangoModelFactory):
    """Two people of one organization sharing a phone, flagged the way intake flags them."""

    class Meta:
        model = SuspectedDuplicate

    matched = factory.SubFactory(PersonFactory)
    person = factory.SubFactory(
        PersonFactory,
        organization=factory.SelfAttribute("..matched.organization"),
        phone=factory.SelfAttribute("..matched.phone"),
    )
    reason = "shares a phone or e-mail with a person of another name"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return suspected_duplicate_record(actor=Actor(user=None), **kwargs)


def many_leads(*, study_site: StudySite, owner: Membership, n: int) -> list[Lead]:
    """`n` new leads owned by `owner`, each with a person of its own, written in bulk from
    lead_build (the one way a lead is made): for tests of bulk work on thousands of leads."""
    now = timezone.now()
    people = Person.objects.bulk_create(
        Person(
            organization_id=study_site.organization_id,
            first_name="Bulk",
            last_name=f"Person{i}",
            email=f"bulk{i}.{study_site.pk}.{owner.pk}@example.com",
        )
        for i in range(n)
    )
    return Lead.objects.bulk_create(
        lead_build(study_site=study_site, source=Source.VENDOR_LIST, owner=owner, now=now, person=p)
        for p in people
    )
