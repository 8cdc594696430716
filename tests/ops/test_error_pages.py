"""Wrong addresses, refused pages and errors show the product's own pages, and `make demo`
runs with DEBUG off so that the demo shows them too (never Django's technical pages)."""

from __future__ import annotations

import os
import subprocess

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.conftest import World, signed_in
from tests.factories import UserFactory
from tests.ops.helpers import BASE_DIR, PYTHON, env
from trialsnest.ops import demo


def test_a_wrong_address_is_the_products_404_page(world: World):
    response = signed_in(world.coordinator.user).get("/no-such-page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in body
    assert 'href="/queue/"' in body  # the shell's navigation is there
    assert "URLconf" not in body


def test_someone_of_no_organization_on_a_staff_page_gets_the_products_403_page(db, client):
    client.force_login(UserFactory())

    response = client.get("/queue/")

    body = response.content.decode()
    assert response.status_code == 403
    assert "<h1>No access to this page</h1>" in body
    assert "This page is for members of an organization." in body


def test_a_sponsor_on_a_staff_page_is_told_nothing_exists_there(world: World, client):
    client.force_login(world.sponsor_viewer)

    response = client.get("/queue/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_an_error_is_the_products_500_page_without_a_request_context(db):
    response = server_error(RequestFactory().get("/queue/"))

    body = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in body
    assert "Traceback" not in body


NAMES = ("DEBUG", "SECRET_KEY", "EMAIL_URL", "SECURE_SSL_REDIRECT", "SECURE_COOKIES")


@pytest.fixture
def demo_env(monkeypatch, tmp_path):
    """The demo's launcher writes its settings into os.environ: a copy, thrown away after."""
    monkeypatch.setattr(demo, "BASE_DIR", tmp_path)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k not in NAMES})
    return tmp_path


def test_the_demo_runs_without_debug_with_a_secret_key_it_keeps(demo_env):
    demo._demo_settings()
    first = os.environ.pop("SECRET_KEY")
    demo._demo_settings()

    assert os.environ["DEBUG"] == "false"
    assert os.environ["EMAIL_URL"] == "console://"
    assert os.environ["SECURE_SSL_REDIRECT"] == os.environ["SECURE_COOKIES"] == "false"
    assert len(first) >= 50
    assert os.environ["SECRET_KEY"] == first
    assert (demo_env / ".data" / "demo-secret-key").stat().st_mode & 0o077 == 0


def test_the_demos_settings_load_and_pass_the_system_checks(demo_env):
    demo._demo_settings()
    result = subprocess.run(
        [PYTHON, "manage.py", "check", "--fail-level", "ERROR"],
        cwd=BASE_DIR,
        env=env(DJANGO_SETTINGS_MODULE="trialsnest.settings", **{n: os.environ[n] for n in NAMES}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
