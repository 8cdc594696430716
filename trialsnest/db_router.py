"""With REPORTING_DATABASE_URL set, reporting's reads go to that database (a read replica of the
default one); every write, and every migration, stays on the default database.

The router names the reporting app by its label, so the core imports nothing of it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
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


def with_replica(default: dict[str, Any], url: str) -> tuple[dict[str, Any], list[str]]:
    """DATABASES and DATABASE_ROUTERS: the default database, and the replica when `url` is set.
    Reporting's rollups are refreshed each minute and rebuilt once a day (Celery beat)."""
    databases = {"default": default}
    if url:
        databases[REPORTING_ALIAS] = replica_database(url)
    return databases, ["trialsnest.db_router.ReportingReplicaRouter"]


def replica_database(url: str) -> dict[str, Any]:
    """The DATABASES entry for REPORTING_DATABASE_URL; a bad value fails loudly."""
    import dj_database_url

    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Bad environment variable REPORTING_DATABASE_URL: {exc}"
        ) from exc
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("REPORTING_DATABASE_URL must point at PostgreSQL.")
    # In tests the replica mirrors the test database, as a real replica would.
    config["TEST"] = {"MIRROR": "default"}
    return config
