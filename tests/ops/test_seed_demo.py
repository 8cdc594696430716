"""seed_demo loads a demo world once, however often it runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from guardian.models import UserObjectPermission

from prescreen.models import Question, QuestionnaireVersion
from trialsnest.accounts.models import User
from trialsnest.audit.models import AuditEvent
from trialsnest.ops.management.commands.seed_demo import DEMO_PASSWORD
from trialsnest.studies.models import RecruitmentStatus, Sponsor, Study, StudySite
from trialsnest.tenancy.gatekeepers import sponsor_study_sites
from trialsnest.tenancy.models import Membership, Organization, Role, Site, SponsorMembership

MODELS = (
    Organization,
    Site,
    Sponsor,
    Study,
    StudySite,
    User,
    Membership,
    SponsorMembership,
    UserObjectPermission,
    AuditEvent,
)


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded(db) -> str:
    return _seed()


def test_running_it_twice_changes_nothing(seeded: str):
    first = _counts()

    _seed()

    assert _counts() == first


def test_it_creates_two_organizations_one_with_three_sites(seeded: str):
    sites = {o.name: o.sites.count() for o in Organization.objects.all()}

    assert len(sites) == 2
    assert sorted(sites.values()) == [1, 3]


def test_it_creates_at_least_three_recruiting_studies(seeded: str):
    recruiting = Study.objects.filter(
        registry_status="RECRUITING",
        study_sites__recruitment_status=RecruitmentStatus.RECRUITING,
    ).distinct()

    assert recruiting.count() >= 3


def test_it_creates_one_user_per_role(seeded: str):
    roles = set(Membership.objects.values_list("role", flat=True))

    assert roles == {Role.ORG_ADMIN, Role.SITE_LEAD, Role.COORDINATOR}
    assert SponsorMembership.objects.count() == 1


def test_every_demo_user_can_sign_in_and_lands_on_their_page(seeded: str):
    landing: dict[str, str] = {
        Role.ORG_ADMIN: "/settings/",
        Role.SITE_LEAD: "/dashboard/",
        Role.COORDINATOR: "/queue/",
    }
    for membership in Membership.objects.select_related("user"):
        client = Client()
        client.post(
            "/accounts/login/", {"username": membership.user.email, "password": DEMO_PASSWORD}
        )
        assert client.get("/")["Location"] == landing[membership.role], membership.user.email
    sponsor = Client()
    sponsor.post(
        "/accounts/login/",
        {"username": SponsorMembership.objects.get().user.email, "password": DEMO_PASSWORD},
    )
    assert sponsor.get("/")["Location"] == "/reports/"


def test_the_sponsor_viewer_is_granted_their_sponsors_studies_at_one_organization(seeded: str):
    viewer = SponsorMembership.objects.get()
    granted = sponsor_study_sites(viewer.user)

    assert granted.count() == 2
    assert {ss.study.sponsor_id for ss in granted} == {viewer.sponsor_id}
    assert {ss.organization.name for ss in granted} == {"Lakeside Research Network"}


def test_it_prints_the_sign_ins(seeded: str):
    assert "admin@lakeside.example / trialsnest-demo" in seeded


def test_if_empty_leaves_a_database_with_data_alone(seeded: str):
    before = _counts()

    output = _seed("--if-empty")

    assert "demo data not loaded again" in output
    assert _counts() == before


def test_if_empty_loads_an_empty_database(db):
    _seed("--if-empty")

    assert Organization.objects.count() == 2


def test_the_demo_public_search_finds_the_words_its_cards_show_in_both_languages(seeded: str):
    visitor = Client()

    english = visitor.get("/studies/", {"q": "immunotherapy"}).content.decode()
    spanish = visitor.get("/es/studies/", {"q": "inmunoterapia"}).content.decode()
    translation.activate("en")  # a request to /es/ leaves Spanish active in this thread

    assert "Mucosal Melanoma" in english
    assert "A study of a standard immunotherapy" in english
    assert "Un estudio de una inmunoterapia estándar" in spanish
    assert "solo están en inglés" in spanish


def test_every_demo_study_site_has_a_published_prescreen_with_public_questions(seeded: str):
    study_sites = StudySite.objects.all()
    published = QuestionnaireVersion.objects.filter(status="published")

    assert published.count() == study_sites.count()
    assert Question.objects.filter(version__in=published, public=True).count() == 2 * len(
        study_sites
    )
    study_site = study_sites.filter(recruitment_status=RecruitmentStatus.RECRUITING)[0]
    page = Client().get(f"/es/studies/sites/{study_site.code}/").content.decode()
    translation.activate("en")
    assert "¿Cuántos años tiene?" in page
