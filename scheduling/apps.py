from __future__ import annotations

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        from leads.outreach.visits import register_visit_lookup
        from scheduling import readiness, receivers  # noqa: F401  (checklist items, receivers)

        register_visit_lookup(receivers.upcoming_visit_of_lead)
