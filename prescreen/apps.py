from __future__ import annotations

from django.apps import AppConfig


class PrescreenConfig(AppConfig):
    name = "prescreen"

    def ready(self) -> None:
        from prescreen import readiness, receivers  # noqa: F401  (checklist items, receivers)
