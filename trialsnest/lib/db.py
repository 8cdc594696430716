"""PostgreSQL helpers: COPY, id reservation and advisory locks, on Django's connection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection


def copy_rows(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Write rows with COPY on Django's connection (inside its current transaction)."""
    count = 0
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def reserve_ids(table: str, count: int) -> list[int]:
    """Take `count` ids from the table's identity sequence, for rows written with COPY."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def advisory_lock(*keys: str) -> None:
    """Hold transaction-level advisory locks on `keys` until the transaction ends.

    Taken in sorted order, so two transactions that want the same keys never deadlock.
    """
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
