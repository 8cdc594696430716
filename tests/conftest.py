"""Personas shared by every test.

Org A has two sites with a StudySite each. Its people: an org admin, a site lead, and a
coordinator restricted to one StudySite. Org B has its own admin (the outsider). A sponsor
viewer has been granted org A's first StudySite. And an anonymous visitor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.test import Client
from guardian.shortcuts import assign_perm
from playwright.sync_api import sync_playwright

from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SiteFactory,
    SponsorMembershipFactory,
    StudySiteFactory,
)
from trialsnest.accounts.models import User
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Membership, Organization, Role, Site


@dataclass
class World:
    org_a: Organization
    org_b: Organization
    site_a: Site
    site_a2: Site
    site_b: Site
    study_site_a: StudySite
    study_site_a2: StudySite
    study_site_b: StudySite
    admin: Membership
    site_lead: Membership
    coordinator: Membership
    outsider: Membership
    sponsor_viewer: User


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_public_catalog():
    # Each process keeps the public catalog for a few seconds; every test starts without it.
    from leads.public.catalog import forget_catalog

    forget_catalog()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Uploaded files (CSV imports) go to a folder of the test's own.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    # Unit tests run tasks in-process; tests/ops/test_celery.py uses a real worker and broker.
    from trialsnest.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def world(db) -> World:
    org_a = OrganizationFactory(name="Org A")
    org_b = OrganizationFactory(name="Org B")
    site_a = SiteFactory(organization=org_a, name="A North")
    site_a2 = SiteFactory(organization=org_a, name="A South")
    site_b = SiteFactory(organization=org_b, name="B Central")
    study_site_a = StudySiteFactory(site=site_a)
    study_site_a2 = StudySiteFactory(site=site_a2)
    study_site_b = StudySiteFactory(site=site_b, study=study_site_a.study)
    coordinator = MembershipFactory(organization=org_a, role=Role.COORDINATOR)
    coordinator.restricted_study_sites.set([study_site_a])
    sponsor = SponsorMembershipFactory(sponsor=study_site_a.study.sponsor)
    assign_perm("studies.view_studysite_reports", sponsor.user, study_site_a)
    return World(
        org_a=org_a,
        org_b=org_b,
        site_a=site_a,
        site_a2=site_a2,
        site_b=site_b,
        study_site_a=study_site_a,
        study_site_a2=study_site_a2,
        study_site_b=study_site_b,
        admin=MembershipFactory(organization=org_a, role=Role.ORG_ADMIN),
        site_lead=MembershipFactory(organization=org_a, role=Role.SITE_LEAD),
        coordinator=coordinator,
        outsider=MembershipFactory(organization=org_b, role=Role.ORG_ADMIN),
        sponsor_viewer=sponsor.user,
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return signed_in


# Browser tests: one headless Debian chromium for the whole session, driven by Playwright.
# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    context.close()
