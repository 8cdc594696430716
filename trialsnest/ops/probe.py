"""The container's health check: `python -m trialsnest.ops.probe` asks this container's gunicorn
for /healthz as the TLS proxy would (the first allowed host, X-Forwarded-Proto: https) and exits
0 when it answers 200 (the database answers; a degraded broker or beat is reported, not fatal).

Only the standard library: it runs every few seconds and must not load Django.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def probe_host() -> str:
    """A host Django accepts: the first of ALLOWED_HOSTS, without a leading wildcard dot."""
    first = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    return first.lstrip("*.") or "localhost"


def main() -> int:
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": probe_host(), "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
