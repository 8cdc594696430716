from __future__ import annotations

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self) -> None:
        from records import readiness, receivers  # noqa: F401  (checklist items, receivers)
