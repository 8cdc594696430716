"""The embedded PostgreSQL used when no DATABASE_URL is set (DESIGN.md: embedded default).

pgserver (the `embedded` extra: never in the production image) ships PostgreSQL binaries inside a
Python package. The server keeps its data in `.data/postgres` under the project, listens only on
a Unix socket in that folder, and is shared by every process of the project (web, worker, beat,
tests) until `embedded_stop()`.

It is also a Django database backend (ENGINE "trialsnest.lib.embedded", see base.py): the
server starts when the first connection needs it, so importing the settings starts nothing.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[3] / ".data" / "postgres"
DATABASE_NAME = "trialsnest"


def _server() -> Any:
    import pgserver

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so web, worker and beat share it.
    return pgserver.get_server(DATA_DIR, cleanup_mode=None)


@cache
def embedded_database_url() -> str:
    """The server's connection URL, starting it (and creating the database) when needed."""
    server = _server()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        logger.info("Created the embedded database in %s", DATA_DIR)
    return str(server.get_uri(DATABASE_NAME))


def embedded_stop() -> None:
    """Stop the embedded server (`make demo` calls this when it is interrupted)."""
    import os

    import pgserver

    if (DATA_DIR / "postmaster.pid").exists():
        user = "pgserver" if os.geteuid() == 0 else None
        pgserver.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=DATA_DIR, user=user)
