"""The csv_import scenario: a 100,000-row vendor list end to end, in a worker-like process of
its own (for its peak memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from trialsnest.bench.measure import Result
from trialsnest.bench.over_http import database_url
from trialsnest.bench.pages import coordinator_of, sites_by_size, total_leads

BASE_DIR = Path(settings.BASE_DIR)

CSV_IMPORT_CODE = r"""
import json, os, resource, sys, time
import django
django.setup()
from trialsnest.bench.csv_import import run_csv_import
seconds, rows = run_csv_import(int(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sys.stdout.write(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak}) + "\n")
"""


def vendor_csv(rows: int, organization_id: int, known_share: float = 0.05) -> bytes:
    """A vendor list: mostly new people, some already known (by phone), a few bad rows."""
    import random

    rng = random.Random()  # a new list each run: people not seen before, as a vendor sends
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM leads_person WHERE organization_id = %s LIMIT %s",
            [organization_id, int(rows * known_share)],
        )
        known = [row[0] for row in cursor.fetchall()]
    lines = ["First Name,Last Name,Phone,Email,DOB,Zip"]
    for i in range(rows):
        if known and i % 20 == 0:
            phone = known[(i // 20) % len(known)]
        else:
            phone = f"({rng.choice(['303', '720', '312'])}) {rng.randint(200, 999)}-{i % 10000:04d}"
        email = f"v{i}.{rng.randint(0, 10**9)}@vendor.example"
        if i % 1000 == 7:
            phone, email = "123", ""  # a bad row
        lines.append(f"Pat{i},Lee,{phone},{email},1970-0{1 + i % 9}-1{i % 9},80218")
    return ("\n".join(lines) + "\n").encode()


def run_csv_import(rows: int) -> tuple[float, int]:
    """Upload, check and import a vendor list end to end, as the worker does (the tasks run
    in this process: CELERY_TASK_ALWAYS_EAGER)."""
    from leads.intake.csv.services import csv_import_start, csv_import_upload
    from leads.models import CsvImport
    from trialsnest.audit.services import Actor
    from trialsnest.studies.models import StudySite

    site_id = sites_by_size()[0][0]
    study_site = StudySite.objects.select_related("site").filter(site_id=site_id).first()
    assert study_site is not None
    member = coordinator_of(site_id)
    data = vendor_csv(rows, study_site.organization_id)
    actor = Actor(user=member.user)
    started = time.perf_counter()
    imp = csv_import_upload(
        data=data,
        filename="vendor.csv",
        study_site=study_site,
        source="vendor_list",
        campaign="bench",
        actor=actor,
    )
    csv_import_start(imp=imp, attested=True, again=True, actor=actor)
    imp.refresh_from_db()
    assert imp.state == CsvImport.State.DONE, (imp.state, imp.error)
    return time.perf_counter() - started, rows


def csv_import_scenario(rows: int = 100_000) -> list[Result]:
    existing = total_leads()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get(
        "DJANGO_SETTINGS_MODULE", "trialsnest.settings"
    ))  # fmt: skip
    env["DATABASE_URL"] = database_url()
    env["CELERY_TASK_ALWAYS_EAGER"] = "true"  # the import's tasks, in the measured process
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CSV_IMPORT_CODE, str(rows)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return [
        Result(
            scenario="csv_import",
            leads=existing,
            seconds=round(figures["seconds"], 2),
            rows_per_s=round(figures["rows"] / figures["seconds"], 1),
            peak_mb=round(figures["peak_mb"], 1),
        )
    ]


# The public interest form ------------------------------------------------------------------
