"""The bell: a member's own unread count, polled by htmx, in one query; the list marks read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import World, signed_in
from trialsnest.notifications.models import Kind, Notification
from trialsnest.notifications.selectors import unread_count
from trialsnest.notifications.services import Notice, notify_many


def _notice(world: World, key: str, recipient_id: int | None = None) -> Notice:
    return Notice(
        organization_id=world.org_a.pk,
        recipient_id=recipient_id or world.coordinator.pk,
        kind=Kind.SLA_MISSED,
        key=key,
        reason="Past the first-response target",
    )


@pytest.mark.django_db
def test_a_notice_is_written_once_per_recipient_and_key(world: World) -> None:
    assert notify_many([_notice(world, "a"), _notice(world, "b")]) == 2
    assert notify_many([_notice(world, "a")]) == 0
    assert notify_many([_notice(world, "a", world.site_lead.pk)]) == 1
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_the_bell_counts_the_members_own_unread_in_one_query(world: World) -> None:
    notify_many([_notice(world, "a"), _notice(world, "b"), _notice(world, "c", world.site_lead.pk)])

    with CaptureQueriesContext(connection) as queries:
        assert unread_count(world.coordinator) == 2
    assert len(queries) == 1

    page = signed_in(world.coordinator.user).get(
        reverse("notifications_bell"), HTTP_HX_REQUEST="true"
    )
    assert page.status_code == 200
    assert b'<span class="count">2</span>' in page.content
    assert b'hx-trigger="every 30s"' in page.content


@pytest.mark.django_db
def test_opening_the_list_and_marking_read_empties_the_bell(world: World) -> None:
    notify_many([_notice(world, "a")])
    client = signed_in(world.coordinator.user)

    page = client.get(reverse("notifications"))
    assert b"Past the first-response target" in page.content
    assert client.post(reverse("notifications_read")).status_code == 302
    assert unread_count(world.coordinator) == 0
    assert b'class="count"' not in client.get(reverse("notifications_bell")).content


@pytest.mark.django_db
def test_pages_draw_the_bell_with_its_count_and_poll_every_30s(world: World) -> None:
    notify_many([_notice(world, "a"), _notice(world, "b")])
    page = signed_in(world.coordinator.user).get(reverse("queue"))
    assert b'id="bell"' in page.content
    assert b'<span class="count">2</span>' in page.content
    assert b'hx-trigger="every 30s"' in page.content
    assert b"load, every 30s" not in page.content  # no second request to learn the count


@pytest.mark.django_db
def test_the_bells_poll_is_one_query_in_all(world: World) -> None:
    notify_many([_notice(world, "a")])
    client = signed_in(world.coordinator.user)
    client.get(reverse("queue"))  # the first page writes the session's sign-in time

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("notifications_bell"), HTTP_HX_REQUEST="true")
    assert b'<span class="count">1</span>' in page.content
    assert len(queries) == 1, [q["sql"] for q in queries]
