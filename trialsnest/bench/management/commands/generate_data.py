from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trialsnest.bench.generate import Plan, generate


class Command(BaseCommand):
    help = "Fill the database with realistic, skewed benchmark data through PostgreSQL COPY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, leads: int, seed: int, **options: Any) -> None:
        started = time.monotonic()
        generate(Plan(leads=leads, seed=seed), say=self.stdout.write)
        seconds = time.monotonic() - started
        self.stdout.write(f"generated {leads} leads in {seconds:.1f} s ({leads / seconds:,.0f}/s)")
