from __future__ import annotations

from django.apps import AppConfig


class PrescreenConfig(AppConfig):
    name = "prescreen"

    def ready(self) -> None:
        from prescreen import receivers  # noqa: F401  (connects the receivers)
