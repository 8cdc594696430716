from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "trialsnest.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from trialsnest.audit import receivers  # noqa: F401  (connects the sign-in signals)
