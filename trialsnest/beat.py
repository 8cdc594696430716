"""Celery beat's schedule (settings.CELERY_BEAT_SCHEDULE): what runs, and how often.

Due times live in the database; the periodic scans below pick up what fell due, each safe to
run twice (README: Automation and When something fails).
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "trialsnest.ops.tasks.heartbeat", "schedule": 60.0},
    # Work written to the outbox that could not be sent at once (Redis down) goes out.
    "relay-outbox": {"task": "trialsnest.ops.tasks.relay_outbox", "schedule": 5.0},
    # Web form submissions whose intake failed are retried until they become leads.
    "retry-submissions": {"task": "leads.tasks.retry_submissions", "schedule": 300.0},
    # CSV imports whose worker died (its lease ran out) go to another worker.
    "resume-csv-imports": {"task": "leads.tasks.resume_csv_imports", "schedule": 60.0},
    # Messages held for the recipient's quiet hours go once their window opens.
    "release-held-messages": {"task": "leads.outreach.tasks.release_held_messages", "schedule": 60},
    # Due times live in the database; these scans pick up what fell due (leads.automation).
    "sweep-stale-leads": {"task": "leads.automation.tasks.sweep_stale_leads", "schedule": 600.0},
    "queue-appointment-reminders": {
        "task": "scheduling.tasks.queue_appointment_reminders",
        "schedule": 300.0,
    },
    "follow-up-records": {"task": "records.tasks.follow_up_records", "schedule": 3600.0},
    "claim-digests": {"task": "leads.automation.tasks.claim_digests", "schedule": 300.0},
    "notify-due-leads": {"task": "leads.automation.tasks.notify_due_leads", "schedule": 60.0},
    "scan-sla-targets": {"task": "leads.automation.tasks.scan_sla_targets", "schedule": 300.0},
    "close-unreachable-leads": {
        "task": "leads.automation.tasks.close_unreachable_leads",
        "schedule": 60.0,
    },
    # Reporting's rollups: the leads that moved, every minute; all of them, once a day.
    "refresh-moved-cohorts": {"task": "reporting.tasks.refresh_moved_cohorts", "schedule": 60.0},
    "rebuild-cohorts": {"task": "reporting.tasks.rebuild_cohorts", "schedule": 86400.0},
}
