"""axe-core, from its npm package, run inside a Playwright page.

The package is installed into .cache/axe by `make axe` (part of `make test`); a test run
without it installs it the same way first (npm, from the registry). Nothing is fetched while
a page is checked: the script is read from disk and injected into the page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / ".cache" / "axe"
SCRIPT = PREFIX / "node_modules" / "axe-core" / "axe.min.js"
PACKAGE = "axe-core@4"
SERIOUS = {"serious", "critical"}


@cache
def axe_source() -> str:
    if not SCRIPT.exists():
        npm = shutil.which("npm")
        assert npm, "the accessibility tests need npm to install axe-core (make axe)"
        subprocess.run(
            [npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", PACKAGE],
            check=True,
            capture_output=True,
        )
    return SCRIPT.read_text(encoding="utf-8")


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now (WCAG 2.x A and AA
    rules and axe's best practices), each with the elements it found them on."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in SERIOUS]


def report(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=2)
