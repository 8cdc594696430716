"""With REPORTING_DATABASE_URL set, reporting's reads go to that database (a read replica of the
default one); every write, and every migration, stays on the default database.

The router names the reporting app by its label, so the core imports nothing of it."""

from __future__ import annotations

from typing import Any

from django.db import connections

REPORTING_ALIAS = "reporting"
READ_FROM_REPLICA = frozenset({"reporting"})


class ReportingReplicaRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if model._meta.app_label in READ_FROM_REPLICA and REPORTING_ALIAS in connections:
            return REPORTING_ALIAS
        return None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the default database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"
