"""Settings come from the environment and fail loudly on a bad value."""

from __future__ import annotations

import logging
import subprocess

import pytest

from tests.ops.helpers import BASE_DIR, PYTHON, env
from trialsnest.logging import RedactPatientData

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "trialsnest.settings",
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-" + "k3y" * 20,
    "ALLOWED_HOSTS": "trialsnest.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/trialsnest",
    "EMAIL_URL": "smtp://mail.example:587/?tls=True",
    "SECURE_SSL_REDIRECT": None,
    "SECURE_COOKIES": None,
    "DJANGO_ALLOW_ASYNC_UNSAFE": None,  # the browser tests set it for their own process
    "BENCHMARKS": None,  # tests/settings.py turns them on for the test process
}


def manage(*args: str, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env(**{**PRODUCTION, **overrides}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deploy_check_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG"),
        ("SESSION_IDLE_MINUTES", "0", "SESSION_IDLE_MINUTES"),
        ("SESSION_IDLE_MINUTES", "half an hour", "SESSION_IDLE_MINUTES"),
        ("CSV_IMPORT_CHUNK_ROWS", "0", "CSV_IMPORT_CHUNK_ROWS"),
        ("CSV_IMPORT_LEASE_SECONDS", "two minutes", "CSV_IMPORT_LEASE_SECONDS"),
        ("EMAIL_URL", "carrier-pigeon://", "EMAIL_URL"),
        ("EMAIL_URL", "anymail://carrier_pigeon", "no provider 'carrier_pigeon'"),
        ("DATABASE_URL", "mysql://root@localhost/trialsnest", "PostgreSQL"),
        ("SECRET_KEY", "", "SECRET_KEY"),
    ],
)
def test_a_bad_value_stops_the_app_with_a_message_naming_it(name, value, message):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr.splitlines()[-1]


def test_logs_never_carry_query_strings_or_the_request():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/search/?q=555-0100",),
        None,
    )
    record.request = object()
    assert RedactPatientData().filter(record)
    assert record.getMessage() == "Not Found: /search/?[redacted]"
    assert record.request is None


def test_every_log_handler_redacts(settings):
    for handler in settings.LOGGING["handlers"].values():
        assert "no_phi" in handler["filters"]


def test_an_email_provider_through_anymail_passes_the_deploy_check():
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.MAILERS['default'])",
        EMAIL_URL="anymail://postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="server-token",
        ANYMAIL_WEBHOOK_SECRET="provider:secret",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "anymail.backends.postmark.EmailBackend" in result.stdout
    check = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        EMAIL_URL="anymail://postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="server-token",
        ANYMAIL_WEBHOOK_SECRET="provider:secret",
    )  # fmt: skip
    assert check.returncode == 0, check.stderr


def test_without_debug_the_mail_server_must_be_named():
    # The console backend would print reset and invitation links into the web log.
    result = manage("check", EMAIL_URL=None)
    assert result.returncode != 0
    assert "EMAIL_URL must be set when DEBUG is false" in result.stderr.splitlines()[-1]


def test_importing_the_settings_starts_no_database():
    """Without DATABASE_URL the embedded server is the default, started by the first connection
    that needs it; importing the settings (lint, type-check, collectstatic) touches nothing."""
    code = (
        "import sys; sys.modules['pgserver'] = None\n"  # any import of it would fail
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.DATABASES['default']['ENGINE'])\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", code],
        cwd=BASE_DIR,
        env=env(**{**PRODUCTION, "DATABASE_URL": None, "REDIS_URL": None}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "trialsnest.lib.embedded"


def test_the_benchmarks_say_what_production_settings_lack():
    result = manage("bench", "queue", BENCHMARKS="true")
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "SECURE_SSL_REDIRECT=false" in message
    assert "ALLOWED_HOSTS with localhost and 127.0.0.1" in message
    assert "make bench" in message


def test_production_settings_leave_the_benchmark_commands_out():
    assert "Unknown command: 'generate_data'" in manage("generate_data").stderr
