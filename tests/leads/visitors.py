"""The public visitor: an anonymous browser with an address of its own, and the StudySites and
forms public tests use.

The rate limit counts per client address in the shared Redis; a fresh address per visitor keeps
one test's (or one earlier run's) submissions from counting against another's.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from django.test import Client, TestCase

from tests.factories import SiteFactory, StudyFactory, StudySiteFactory
from trialsnest.studies.models import StudySite


def fresh_address() -> str:
    """A new visitor's IPv6 address, written as the app stores it (no leading zeros)."""
    return str(ipaddress.IPv6Address(f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"))


class Visitor(Client):
    """A browser whose form posts are followed by the work they queued after commit: the web
    form's task runs (Celery is eager in tests) as a worker would run it."""

    def post(self, *args: Any, **kwargs: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().post(*args, **kwargs)


def new_visitor(**defaults: Any) -> Client:
    return Visitor(REMOTE_ADDR=fresh_address(), **defaults)


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
