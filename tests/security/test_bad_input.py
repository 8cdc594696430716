"""Bad input on every form: for each page of the permission matrix that shows a form to a
member, Hypothesis fills every field with hostile text (markup, quotes, control characters,
NUL, very long, formulas) and posts it. No answer is a 500, and the markup is never given back
unescaped, on the page or in an htmx swap."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World, signed_in
from tests.tenancy.test_permissions import MATRIX

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE = st.one_of(
    st.just(PAYLOAD),
    st.just('"><svg onload=alert(1)>'),
    st.just('=HYPERLINK("http://evil")'),
    st.just("\x00"),
    st.just("x" * 5000),
    st.just("  "),
    st.just("-1"),
    st.just("9" * 30),
    st.just("2026-02-30"),
    st.text(max_size=40),
)
FORM = re.compile(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
FIELD = re.compile(r"<(?:input|select|textarea)[^>]*\bname=\"([^\"]+)\"", re.I)
SKIP_FIELDS = {"csrfmiddlewaretoken", "next", "version", "key"}


def _pages(persona: str) -> list[tuple[str, str, Any]]:
    """(url name, row index, the row) of the GET rows a member of org A opens with 200."""
    return [
        (name, str(index), row)
        for name, rows in MATRIX.items()
        for index, row in enumerate(rows)
        if row.method == "GET" and row.expected.get(persona) == 200
    ]


def _fields(html: str) -> list[str]:
    names: list[str] = []
    for form in FORM.findall(html):
        names += [n for n in FIELD.findall(form) if n not in SKIP_FIELDS and n not in names]
    return names


CASES = [
    pytest.param(persona, name, row, id=f"{name}-{index}-{persona}")
    for persona in ("site_lead", "admin", "coordinator")
    for name, index, row in _pages(persona)
]


@pytest.mark.parametrize(("persona", "name", "row"), CASES)
def test_no_form_answers_a_500_or_echoes_markup(world: World, persona: str, name: str, row):
    client: Client = signed_in(getattr(world, persona).user)
    url = reverse(name, kwargs=row.kwargs(world))
    page = client.get(url, row.data(world))
    if page.streaming or not page.get("Content-Type", "").startswith("text/html"):
        return  # a download, not a form
    fields = _fields(page.content.decode(errors="replace"))
    if page.status_code != 200 or not fields:
        return  # no form here for this member

    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries({field: HOSTILE for field in fields}))
    def post(data: dict[str, str]) -> None:
        for headers in ({}, {"HX-Request": "true"}):
            answer = client.post(url, data, headers=headers)
            assert answer.status_code < 500, (url, data, answer.status_code)
            body = answer.content.decode(errors="replace")
            assert PAYLOAD not in body, (url, "echoed the markup unescaped")

    post()
