from __future__ import annotations

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from leads import (
            readiness,  # noqa: F401  (its launch-checklist items)
            receivers,  # noqa: F401  (connects the receivers)
        )
        from leads.outreach import email_webhooks  # noqa: F401  (anymail's signals)
