"""The reporting read-replica router's decisions. A live second database is not part of these
tests (see the report): they check where each read, write and migration goes."""

from __future__ import annotations

from django.db import connections

from leads.models import Lead
from reporting.models import DailyCohort
from trialsnest.db_router import REPORTING_ALIAS, ReportingReplicaRouter

router = ReportingReplicaRouter()


def test_without_a_replica_reporting_reads_use_the_default_database():
    assert REPORTING_ALIAS not in connections
    assert router.db_for_read(DailyCohort) is None


def test_with_a_replica_reporting_reads_go_to_it_and_nothing_else_does(settings, monkeypatch):
    monkeypatch.setitem(connections.settings, REPORTING_ALIAS, {**connections.settings["default"]})
    assert router.db_for_read(DailyCohort) == REPORTING_ALIAS
    assert router.db_for_read(Lead) is None
    assert router.db_for_write(DailyCohort) == "default"


def test_migrations_run_on_the_default_database_only():
    assert router.allow_migrate("default", "reporting") is True
    assert router.allow_migrate(REPORTING_ALIAS, "reporting") is False
