from __future__ import annotations

from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"

    def ready(self) -> None:
        from leads.queue_notes import register_queue_notes
        from reporting.reviews import open_actions_of

        register_queue_notes(open_actions_of)  # the weekly review's actions on the queue
