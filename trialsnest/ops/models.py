"""What operations keep in the database: the outbox of work for workers, and heartbeats."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class OutboxMessage(models.Model):
    """A task to send to Celery, written in the transaction of the change that needs it.

    Sent at once after commit when the broker answers, else by the relay
    (trialsnest.ops.outbox.relay); deleted once sent. Tasks are safe to run twice, so a message
    sent again after a crash between sending and deleting does no harm.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(db_default=Now())
    # Not before: a claimed or failed message waits until then (the relay's lease and backoff).
    available_at = models.DateTimeField(db_default=Now())
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["available_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class Heartbeat(models.Model):
    """The last time a periodic process (beat, through a worker) said it was alive."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="heartbeat_named")]

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class JobRun(models.Model):
    """One run of a periodic job: when, how long, what it changed (counts by name) or why it
    failed. Ids and counts only, never patient data, so any app's job can write one."""

    job = models.CharField(max_length=60)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    changed = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "-started_at"], name="jobrun_recent")]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def failed(self) -> bool:
        return bool(self.error)
