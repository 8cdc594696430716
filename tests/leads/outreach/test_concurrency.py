"""STOP texts that arrive at the same moment (a provider's retries, a person pressing send
twice): one opt-out and one confirmation, whatever the order the database sees them in."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from leads.outreach.models import OutboundMessage, Purpose
from leads.outreach.services.inbound import inbound_sms_receive
from tests.conftest import World


@pytest.mark.django_db(transaction=True)
def test_simultaneous_stops_record_one_opt_out_and_one_confirmation(world: World, sms_lead):
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def stop(n: int) -> None:
        try:
            barrier.wait()
            inbound_sms_receive(
                organization_id=world.org_a.pk, from_number=sms_lead.person.phone,
                body="STOP", provider_id=f"SM{n}",
            )  # fmt: skip
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=stop, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sms_lead.person.opt_outs.filter(channel="sms").count() == 1
    confirmations = OutboundMessage.objects.filter(purpose=Purpose.OPT_OUT_CONFIRMATION)
    assert confirmations.count() == 1
