"""The public visitor: an anonymous browser with an address of its own.

The rate limit counts per client address in the shared Redis; a fresh address per visitor keeps
one test's (or one earlier run's) submissions from counting against another's.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import SiteFactory, StudyFactory, StudySiteFactory
from trialsnest.studies.models import StudySite


def fresh_address() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def new_visitor(**defaults: Any) -> Client:
    return Client(REMOTE_ADDR=fresh_address(), **defaults)


@pytest.fixture
def visitor() -> Client:
    return new_visitor()


@pytest.fixture(autouse=True)
def _english_afterwards():
    # A request to /es/... leaves Spanish active in this thread; later tests expect English.
    yield
    translation.activate("en")


def recruiting(**site_fields: Any) -> StudySite:
    """A recruiting StudySite of a new study, at a new site (of a new organization)."""
    study_fields = {k[6:]: site_fields.pop(k) for k in list(site_fields) if k.startswith("study_")}
    site_keys = ("name", "city", "state", "postal_code", "address", "organization")
    site = SiteFactory(**{k: site_fields.pop(k) for k in site_keys if k in site_fields})
    study = site_fields.pop("study", None) or StudyFactory(**study_fields)
    return StudySiteFactory(site=site, study=study, **site_fields)


def interest_form(**overrides: Any) -> dict[str, Any]:
    """A complete, valid interest form."""
    data: dict[str, Any] = {
        "site": "any",
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": "(312) 263-0142",
        "email": "ana.lopez@example.com",
        "preferred_time": "morning",
        "postal_code": "60601",
        "consent": ["phone", "email"],
        "material": "",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
