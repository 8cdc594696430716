from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trialsnest.bench import scenarios as scenarios_module
from trialsnest.bench.measure import collect_static, explain
from trialsnest.bench.scenarios import SCENARIOS


def missing_settings() -> list[str]:
    """What these settings lack for the scenarios, which request pages over plain HTTP from
    localhost (in-process and from a gunicorn of their own)."""
    missing = []
    if settings.SECURE_SSL_REDIRECT:
        missing.append("SECURE_SSL_REDIRECT=false (every page would answer a redirect to https)")
    hosts = set(settings.ALLOWED_HOSTS)
    if "*" not in hosts and not {"localhost", "127.0.0.1"} <= hosts:
        missing.append("ALLOWED_HOSTS with localhost and 127.0.0.1")
    return missing


class Command(BaseCommand):
    help = "Run benchmark scenarios against the current database and print their figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)}")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN the main query")
        parser.add_argument("--runs", type=int, default=50, help="timed requests per scenario")
        parser.add_argument("--seconds", type=float, default=10.0, help="HTTP load duration")
        parser.add_argument("--csv-rows", type=int, default=100_000, help="rows of csv_import")

    def handle(self, *args: Any, scenarios: list[str], **options: Any) -> None:
        unknown = set(scenarios) - set(SCENARIOS)
        if unknown:
            raise CommandError(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        if missing := missing_settings():
            raise CommandError(
                "The benchmarks need " + "; ".join(missing) + ". They also write made-up "
                "people into the database: `make bench` runs them on a fresh database of its own "
                "with the right settings."
            )
        scenarios_module.CSV_ROWS = options["csv_rows"]
        collect_static()
        for name in scenarios or list(SCENARIOS):
            for result in SCENARIOS[name](options["runs"], options["seconds"]):
                if options["json"]:
                    self.stdout.write(result.json())
                else:
                    figures = ", ".join(
                        f"{key} {value}"
                        for key, value in vars(result).items()
                        if value is not None and key not in ("scenario", "explain")
                    )
                    self.stdout.write(f"{result.scenario}: {figures}")
                if options["explain"] and result.explain:
                    self.stdout.write(explain(result.explain))
