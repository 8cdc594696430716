from __future__ import annotations

import re
from typing import Any

import yaml

from tests.ops.helpers import BASE_DIR

APP_SERVICES = {"web", "worker", "beat", "migrate"}


def variables_the_app_reads() -> set[str]:
    settings = (BASE_DIR / "trialsnest" / "settings.py").read_text()
    gunicorn = (BASE_DIR / "trialsnest" / "gunicorn.py").read_text()
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z_]+)\"", settings))
    names |= set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", gunicorn))
    return names


def compose() -> Any:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_compose_defines_the_production_services():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mail"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    for name in APP_SERVICES:
        assert services[name]["build"] == "."


def test_every_variable_compose_sets_is_one_the_app_reads():
    read = variables_the_app_reads()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"} <= read
    for name in APP_SERVICES:
        environment = compose()["services"][name]["environment"]
        unknown = set(environment) - read
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_the_dockerfile_builds_what_compose_runs():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "FROM python:3.12" in dockerfile
    assert "collectstatic" in dockerfile
    assert "trialsnest.gunicorn" in dockerfile
