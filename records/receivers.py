"""The records app's answers to what the leads app announces (leads/signals.py).

The leads core never imports records: it announces a status change, a queue page and a lead
page, and records answers here (connected in RecordsConfig.ready).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F
from django.dispatch import receiver

from leads.models import Lead, Person, Status
from leads.signals import (
    lead_page_shown,
    lead_status_changed,
    person_erased,
    person_exported,
    queue_rows_shown,
)
from records.models import RecordItem
from records.presenters import lead_records_panel, queue_reasons
from records.services import record_items_create
from records.services.readiness import lead_records_sync
from trialsnest.audit.services import Actor
from trialsnest.tenancy.models import Membership


@receiver(lead_status_changed, sender=Lead)
def create_record_items(sender: Any, lead: Lead, actor: Actor, **kwargs: Any) -> None:
    """A lead that reaches the records step gets its StudySite's checklist, in the same
    transaction as the move."""
    if lead.status == Status.RECORDS_PENDING:
        record_items_create(lead=lead, actor=actor)
        lead_records_sync(lead=lead, actor=actor, current=True)


@receiver(queue_rows_shown, sender=Lead)
def records_reasons(
    sender: Any, leads: list[Lead], tab: str, now: datetime, **kwargs: Any
) -> dict[int, str]:
    return queue_reasons(leads, tab, now)


@receiver(lead_page_shown, sender=Lead)
def records_panel(
    sender: Any, lead: Lead, membership: Membership, **kwargs: Any
) -> tuple[str, Any]:
    return "records", lead_records_panel(lead)


@receiver(person_exported, sender=Person)
def records_export(sender: Any, person: Person, **kwargs: Any) -> tuple[str, list[Any]]:
    """The person's medical-record items: what was asked of which practice, and when."""
    rows = (
        RecordItem.objects.filter(lead__person=person)
        .annotate(
            lead_code=F("lead__code"),
            record=F("requirement__name"),
            practice=F("provider__practice"),
        )
        .values(
            "lead_code",
            "record",
            "state",
            "practice",
            "requested_on",
            "received_on",
            "record_date",
        )
    )
    return "Medical records", list(rows.order_by("id"))


@receiver(person_erased, sender=Person)
def records_erase(sender: Any, person: Person, **kwargs: Any) -> None:
    """What a reviewer typed about the person's records goes; the items' states stay."""
    RecordItem.objects.filter(lead__person=person).update(insufficient_reason="")
