"""Demo data: two organizations, real studies, StudySites and one user per role. Idempotent."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from guardian.shortcuts import assign_perm

from leads.demo_data import seed_leads
from leads.models import Lead
from prescreen.demo_data import seed_prescreens
from trialsnest.accounts.models import User
from trialsnest.audit.services import Actor
from trialsnest.studies.ctgov import read_file
from trialsnest.studies.models import Sponsor, Study, StudySite
from trialsnest.studies.services import studies_import
from trialsnest.tenancy import services
from trialsnest.tenancy.models import Membership, Organization, Role, Site, SponsorMembership

CTGOV_DIR = Path(__file__).resolve().parents[3] / "studies" / "data" / "ctgov"
DEMO_PASSWORD = "trialsnest-demo"  # noqa: S105  (documented in the README; demo data only)

# (organization, [(site, city, state, postal code, timezone)])
ORGANIZATIONS = [
    (
        "Lakeside Research Network",
        [
            ("Lakeside Denver", "Denver", "Colorado", "80218", "America/Denver"),
            ("Lakeside Miami", "Miami", "Florida", "33136", "America/New_York"),
            ("Lakeside Houston", "Houston", "Texas", "77030", "America/Chicago"),
        ],
    ),
    (
        "Harbor Clinical Research",
        [("Harbor Seattle", "Seattle", "Washington", "98104", "America/Los_Angeles")],
    ),
]

# (e-mail, first, last, organization or sponsor, role)
USERS = [
    ("admin@lakeside.example", "Avery", "Admin", "Lakeside Research Network", Role.ORG_ADMIN),
    ("lead@lakeside.example", "Sam", "Lead", "Lakeside Research Network", Role.SITE_LEAD),
    (
        "coordinator@lakeside.example",
        "Casey",
        "Coordinator",
        "Lakeside Research Network",
        Role.COORDINATOR,
    ),
    ("admin@harbor.example", "Harper", "Admin", "Harbor Clinical Research", Role.ORG_ADMIN),
    (
        "coordinator@harbor.example",
        "Jordan",
        "Coordinator",
        "Harbor Clinical Research",
        Role.COORDINATOR,
    ),
]
SPONSOR_VIEWER = ("sponsor@wustl.example", "Riley", "Sponsor")
SPONSOR_NAME = "Washington University School of Medicine"

# (organization, site, NCT id, lay summary)
STUDY_SITES = [
    (
        "Lakeside Research Network",
        "Lakeside Denver",
        "NCT04318717",
        "A study of a standard immunotherapy with short-course radiation for mucosal melanoma.",
    ),
    ("Lakeside Research Network", "Lakeside Miami", "NCT04318717", ""),
    (
        "Lakeside Research Network",
        "Lakeside Miami",
        "NCT04114136",
        "A study of an immunotherapy combined with a metabolism-targeting medicine.",
    ),
    (
        "Lakeside Research Network",
        "Lakeside Houston",
        "NCT06970236",
        "A study of supervised resistance exercise for people living with ocular melanoma.",
    ),
    ("Harbor Clinical Research", "Harbor Seattle", "NCT04114136", ""),
]
# (site, NCT id): the Spanish lay summary the Spanish pages show instead.
LAY_SUMMARIES_ES = {
    ("Lakeside Denver", "NCT04318717"): "Un estudio de una inmunoterapia estándar con "
    "radioterapia de pocas sesiones para el melanoma de las mucosas.",
    ("Lakeside Houston", "NCT06970236"): "Un estudio de ejercicios de fuerza supervisados "
    "para personas con melanoma ocular.",
}


class Command(BaseCommand):
    help = "Load demo organizations, sites, studies and users (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds an organization.",
        )

    @transaction.atomic
    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        if if_empty and Organization.objects.exists():
            self.stdout.write("The database already has data; demo data not loaded again.")
            return
        for path in sorted(CTGOV_DIR.glob("*.json")):
            known = set(Study.objects.values_list("nct_id", flat=True))
            records = [r for r in read_file(path) if r.nct_id not in known]
            if records:
                studies_import(records=records, source=path.name, actor=Actor(user=None))
        organizations = {name: self.organization(name, sites) for name, sites in ORGANIZATIONS}
        for email, first, last, org_name, role in USERS:
            self.member(email, first, last, organizations[org_name], role)
        for org_name, site_name, nct_id, lay_summary in STUDY_SITES:
            lay_summary_es = LAY_SUMMARIES_ES.get((site_name, nct_id), "")
            organization = organizations[org_name]
            site = Site.objects.get(organization=organization, name=site_name)
            study = Study.objects.get(nct_id=nct_id)
            if not StudySite.objects.filter(site=site, study=study).exists():
                services.study_site_create(
                    organization=organization,
                    site=site,
                    study=study,
                    actor=Actor(user=None),
                    lay_summary=lay_summary,
                    lay_summary_es=lay_summary_es,
                    enrollment_target=12,
                )
        self.sponsor_viewer()
        coordinator = Membership.objects.get(
            user__email="coordinator@lakeside.example",
            organization=organizations["Lakeside Research Network"],
        )
        # The demo coordinator works the Denver and Miami studies only.
        coordinator.restricted_sites.set(
            Site.objects.filter(
                organization=coordinator.organization,
                name__in=["Lakeside Denver", "Lakeside Miami"],
            )
        )
        for organization, count in (
            (organizations["Lakeside Research Network"], 3000),
            (organizations["Harbor Clinical Research"], 400),
        ):
            seed_prescreens(organization)
            if not Lead.objects.filter(organization=organization).exists():
                seed_leads(organization, count)
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        for email, *_ in [*USERS, SPONSOR_VIEWER]:
            self.stdout.write(f"  {email} / {DEMO_PASSWORD}")

    def organization(self, name: str, sites: list[tuple[str, str, str, str, str]]) -> Organization:
        organization, _ = Organization.objects.get_or_create(name=name)
        for site_name, city, state, postal_code, tz in sites:
            if not Site.objects.filter(organization=organization, name=site_name).exists():
                site = Site(
                    organization=organization,
                    name=site_name,
                    city=city,
                    state=state,
                    postal_code=postal_code,
                    timezone=tz,
                    opens_at=time(8, 30),
                    closes_at=time(17, 0),
                )
                services.site_save(site=site, actor=Actor(user=None))
        return organization

    def user(self, email: str, first: str, last: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, first_name=first, last_name=last)
        return user

    def member(
        self, email: str, first: str, last: str, organization: Organization, role: Role
    ) -> None:
        user = self.user(email, first, last)
        Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )

    def sponsor_viewer(self) -> None:
        email, first, last = SPONSOR_VIEWER
        user = self.user(email, first, last)
        sponsor = Sponsor.objects.get(name=SPONSOR_NAME)
        SponsorMembership.objects.get_or_create(user=user, defaults={"sponsor": sponsor})
        for study_site in StudySite.objects.filter(
            study__sponsor=sponsor, organization__name="Lakeside Research Network"
        ):
            assign_perm("studies.view_studysite_reports", user, study_site)
