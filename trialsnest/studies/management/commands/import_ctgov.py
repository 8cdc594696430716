from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trialsnest.audit.services import Actor
from trialsnest.studies.ctgov import CtgovError, read_file
from trialsnest.studies.services import studies_import


class Command(BaseCommand):
    help = (
        "Import ClinicalTrials.gov API v2 JSON files (a study or a search page) into the catalog. "
        "The operator's action: studies already in the shared catalog are updated from the files "
        "(an organization's upload on the web only adds new ones)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        # Every file is checked before anything is written: a bad file imports nothing.
        parsed = []
        for path in files:
            try:
                parsed.append((path, read_file(path)))
            except CtgovError as exc:
                raise CommandError(f"{path}: {exc}") from exc
        for path, records in parsed:
            result = studies_import(records=records, source=str(path), actor=Actor(user=None))
            self.stdout.write(
                f"{path}: {len(result.created)} created, {len(result.updated)} updated"
            )
            for nct_id, names in result.changed.items():
                if names:
                    self.stdout.write(f"  {nct_id}: {', '.join(names)} changed")
