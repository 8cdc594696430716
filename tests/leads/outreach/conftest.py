"""Outreach helpers: org A's SMS number and webhook, a file SMS backend to read texts back,
and a clock inside and outside quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from leads.models import Lead
from leads.outreach.backends import FileSmsBackend
from leads.outreach.models import InboundMessage, OutreachSettings
from leads.outreach.services.inbound import inbound_sms_process, inbound_sms_receive
from tests.conftest import World
from tests.factories import new_lead

ORG_A_NUMBER = "+13125550000"
ORG_B_NUMBER = "+13125550001"
# 10:00 in Chicago (the test sites' zone), a Wednesday: daytime everywhere in the US mainland.
DAYTIME = datetime(2025, 6, 4, 15, 0, tzinfo=UTC)
# 22:30 in Chicago: quiet hours there.
NIGHT_IN_CHICAGO = datetime(2025, 6, 5, 3, 30, tzinfo=UTC)


def text_in(**fields: Any) -> InboundMessage:
    """A text through the webhook's service, then acted on as the worker does."""
    message = inbound_sms_receive(**fields)
    inbound_sms_process(message_id=message.pk)
    message.refresh_from_db()
    return message


@pytest.fixture
def sms_outbox(settings, tmp_path: Path) -> FileSmsBackend:
    path = tmp_path / "sms.jsonl"
    settings.SMS_URL = f"file://{path}"
    return FileSmsBackend(path)


@pytest.fixture
def outreach(world: World, sms_outbox: FileSmsBackend) -> OutreachSettings:
    OutreachSettings.objects.create(organization=world.org_b, sms_number=ORG_B_NUMBER)
    return OutreachSettings.objects.create(
        organization=world.org_a, sms_number=ORG_A_NUMBER, help_contact="Call (312) 555-0199."
    )


@pytest.fixture
def daytime():
    with time_machine.travel(DAYTIME, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sms_lead(world: World, outreach: OutreachSettings, daytime) -> Lead:
    """A new lead at study_site_a of someone in Chicago who agreed to texts and e-mail."""
    return new_lead(
        study_site=world.study_site_a,
        person__first_name="Maria",
        person__phone="+13125550123",
        person__postal_code="60601",
    )
