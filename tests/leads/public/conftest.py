"""Public pages leave the language they used active: every test ends in English again."""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_afterwards():
    # A request to /es/... leaves Spanish active in this thread; later tests expect English.
    yield
    translation.activate("en")
