"""Real races on real connections: two reviews of a lead's last two records at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from leads.models import Activity, ActivityKind, Lead, Status
from records.models import Method, Provider
from records.services import record_item_receive, record_item_request, record_item_review
from tests.conftest import World
from tests.leads.conftest import actor_of
from tests.records.conftest import TODAY, fresh_lead, items_of


def _race(*jobs: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            job()
            results[index] = "done"
        except Exception as error:  # reported by the assertion, not lost
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_reviews_of_the_last_records_at_once_make_the_lead_ready_exactly_once(
    world: World, records_lead: Lead, provider: Provider
):
    items = [items_of(records_lead)[name] for name in ("HbA1c", "Colonoscopy report")]
    for item in items:
        record_item_request(
            item=item, provider=provider, method=Method.FAX, requested_on=TODAY,
            due_on=TODAY, authorization_on_file=True, actor=actor_of(world),
        )  # fmt: skip
        record_item_receive(item=item, received_on=TODAY, record_date=TODAY, actor=actor_of(world))

    results = _race(
        *[
            lambda item=item, who=who: record_item_review(
                item=item, sufficient=True, actor=actor_of(world, who)
            )
            for item, who in zip(items, ("coordinator", "site_lead"), strict=True)
        ]
    )

    assert results == ["done", "done"]
    assert fresh_lead(records_lead).status == Status.RECORDS_READY
    moves = Activity.objects.filter(
        lead=records_lead, kind=ActivityKind.STATUS_CHANGE, data__to=Status.RECORDS_READY
    )
    assert moves.count() == 1
