"""Every write of the records app, one module per job; this package hands their names on.

Each service is atomic and writes its audit row in the same transaction.
"""

from __future__ import annotations

from records.services.checklist import (
    requirement_add_to_waiting,
    requirement_archive,
    requirement_create,
    requirement_update,
    waiting_leads,
)
from records.services.items import (
    record_item_follow_up,
    record_item_receive,
    record_item_request,
    record_item_review,
    record_items_create,
)
from records.services.providers import provider_create, provider_update

__all__ = [
    "provider_create", "provider_update", "record_item_follow_up", "record_item_receive",
    "record_item_request", "record_item_review", "record_items_create",
    "requirement_add_to_waiting", "requirement_archive", "requirement_create", "requirement_update",
    "waiting_leads",
]  # fmt: skip
