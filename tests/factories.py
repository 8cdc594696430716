"""One factory per model; organizations come from sub-factories."""

from __future__ import annotations

import factory

from trialsnest.accounts.models import User
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
