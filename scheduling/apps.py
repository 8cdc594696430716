from __future__ import annotations

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        from leads.outreach.visits import register_visit_lookup
        from scheduling import receivers  # connects the receivers

        register_visit_lookup(receivers.upcoming_visit_of_lead)
