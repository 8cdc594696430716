"""Against a real server: concurrent retries of one request, and the docs page in a browser."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from leads.models import IdempotencyRecord, Lead, Person, Submission
from tests.conftest import World
from tests.leads.api.conftest import LEADS_URL, Key, lead_body

THREADS = 50
ATTEMPTS = 5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_posts_with_one_idempotency_key_make_exactly_one_lead(
    world: World, key: Key, live_server: Any, settings: Any
):
    settings.API_RATE_LIMIT = "1000/minute"
    server = urlsplit(live_server.url)
    body = json.dumps(lead_body(world)).encode()
    headers = key.headers(**{"Idempotency-Key": "retry-storm", "Content-Type": "application/json"})
    barrier = threading.Barrier(THREADS)
    answers: list[Any] = [None] * THREADS

    def send(index: int) -> None:
        # A client in a retry storm retries a dropped connection with the same key. The test
        # server's listen backlog is small, so some of fifty simultaneous connects are reset.
        for attempt in range(ATTEMPTS):
            connection = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
            try:
                connection.connect()
                if attempt == 0:
                    barrier.wait(timeout=30)  # every connection open, then all requests at once
                connection.request("POST", LEADS_URL, body=body, headers=headers)
                response = connection.getresponse()
                answers[index] = (response.status, response.read())
                return
            except (ConnectionError, threading.BrokenBarrierError) as error:
                answers[index] = error  # reported by the assertion below if it persists
                time.sleep(0.2 * (attempt + 1))
            except Exception as error:  # reported by the assertion below, not lost in the thread
                answers[index] = error
                return
            finally:
                connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert all(isinstance(answer, tuple) for answer in answers), answers
    assert {answer[0] for answer in answers} == {201}, answers
    assert len({answer[1] for answer in answers}) == 1
    assert Lead.objects.count() == 1
    assert Person.objects.count() == 1
    assert Submission.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert json.loads(answers[0][1])["code"] == str(Lead.objects.get().code)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_docs_page_works_in_a_browser_under_the_content_security_policy(
    live_server: Any,
    page: Any,
):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    blocked: list[str] = []
    page.on("requestfailed", lambda request: blocked.append(request.url))
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )

    response = page.goto(f"{live_server.url}/api/docs")

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#operations-default-leads_api_lead_create", timeout=20_000)
    assert page.locator(".opblock-summary-path").all_inner_texts() == [
        "/api/v1/leads",
        "/api/v1/leads/{code}",
        "/api/v1/handoffs/",
    ]
    assert page.locator(".information-container .title").inner_text().startswith("TrialsNest API")
    assert not [v for v in violations if "Content Security Policy" in v], violations
    assert page.console_errors == []
    assert blocked == []
    assert outside == []
