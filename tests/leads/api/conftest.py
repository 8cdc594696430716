"""API keys of the personas' organizations and a client that speaks to the intake API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from leads.intake.api_keys import api_key_create
from leads.models import ApiKey, Source
from tests.conftest import World
from trialsnest.audit.services import Actor

LEADS_URL = "/api/v1/leads"


@dataclass
class Key:
    api_key: ApiKey
    token: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


def make_key(
    world: World,
    *,
    organization: Any = None,
    partner: str = "Acme Referrals",
    source: str = Source.REFERRAL_PARTNER,
    scopes: Any = (ApiKey.Scope.INTAKE,),
) -> Key:
    organization = organization or world.org_a
    admin = world.admin if organization == world.org_a else world.outsider
    api_key, token = api_key_create(
        organization=organization,
        name=f"{partner} key",
        source=source,
        referral_partner=partner,
        scopes=scopes,
        actor=Actor(admin.user),
    )
    return Key(api_key, token)


@pytest.fixture
def key(world: World) -> Key:
    return make_key(world)


def lead_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "study_site": str(world.study_site_a.code),
        "first_name": "Maria",
        "last_name": "Lopez",
        "phone": "(312) 555-0142",
        "email": "Maria.Lopez@example.com",
        "date_of_birth": "1970-03-14",
        "postal_code": "60601",
        "preferred_time": "weekday evenings",
        "preferred_language": "es",
        "consent": {"phone": True, "sms": True, "email": False},
        "consent_text_version": "2025-01",
        "campaign": "spring-radio",
        "material_code": "",
        "external_reference": "ACME-1001",
    }
    body.update(overrides)
    return body


def post_lead(
    key: Key | None,
    body: Any,
    *,
    idempotency_key: str | None = None,
    client: Client | None = None,
    raw: bytes | None = None,
) -> Any:
    headers = key.headers() if key else {}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return (client or Client()).post(
        LEADS_URL,
        data=raw if raw is not None else json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def get_lead(key: Key | None, code: Any) -> Any:
    return Client().get(f"{LEADS_URL}/{code}", headers=key.headers() if key else {})
