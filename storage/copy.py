"""``sanctuary-bot copy-db FROM TO``: everything in one database copied into another, empty one,
whichever their engines (a SQLite file to PostgreSQL, and back).

Tables go in the order they were made (a table another refers to comes first), each read in
primary-key order a batch at a time and written a batch per transaction, the batch sized so a
transaction takes about ``budget`` seconds (the bot's rule: nobody holds the database longer
than 100 ms). Rows keep their ids; on PostgreSQL each id sequence is then moved past them. The
directory's change counters (migration 0017) end at the larger of both sides' numbers, so every
change after the copy is numbered above every change before it. Copy a stopped bot's database
(or a backup): rows written during the copy may or may not be in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.db import Database

# Rows the migrations put in a new database; the copy keeps the larger counter instead.
_COUNTERS = "change_counter"
_FIRST_BATCH = 200
_LARGEST_BATCH = 20_000


class CopyError(Exception):
    """The copy cannot be made; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Counted:
    """A table's rows on each side once copied."""

    table: str
    source: int
    target: int


async def _count(db: Database, table: str) -> int:
    rows = list(await db.conn.execute_fetchall(f'SELECT COUNT(*) FROM "{table}"'))
    return int(rows[0][0])


async def _check(source: Database, target: Database) -> list[str]:
    """The tables to copy, once both databases are the same version and the target is empty."""
    have, want = await target.version(), await source.version()
    if have != want:
        raise CopyError(f"schema versions differ: FROM is at {want}, TO at {have}")
    tables = await source.tables()
    if sorted(tables) != sorted(await target.tables()):
        raise CopyError("the two databases do not have the same tables")
    for table in tables:
        if table != _COUNTERS and (rows := await _count(target, table)):
            raise CopyError(f"TO is not empty: {table} has {rows} rows")
    return tables


async def _copy_table(source: Database, target: Database, table: str, budget: float) -> None:
    columns, key = await source.columns(table)
    if not key:
        raise CopyError(f"{table} has no primary key to copy it in order by")
    names = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{c}"' for c in key)
    keyed = f"({order}) > ({', '.join('?' * len(key))})"
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    at = [columns.index(c) for c in key]
    last: tuple[Any, ...] | None = None
    size = _FIRST_BATCH
    while True:
        where = "" if last is None else f"WHERE {keyed} "
        rows = [
            tuple(row)
            for row in await source.conn.execute_fetchall(
                f'SELECT {names} FROM "{table}" {where}ORDER BY {order} LIMIT ?',
                (*(last or ()), size),
            )
        ]
        if not rows:
            break
        start = time.perf_counter()
        async with target.transaction() as conn:
            await conn.executemany(insert, rows)
        took = time.perf_counter() - start
        # The next batch sized for the budget, from this one's pace (never more than doubled).
        size = max(1, min(_LARGEST_BATCH, size * 2, int(len(rows) * budget / max(took, 1e-6))))
        last = tuple(rows[-1][i] for i in at)
    await target.renumber(table)


async def _merge_counters(source: Database, target: Database) -> None:
    """Each change counter at the larger of the two: past every number either side gave."""
    for name, seq in await source.conn.execute_fetchall(f"SELECT name, seq FROM {_COUNTERS}"):
        await target.conn.execute(
            f"UPDATE {_COUNTERS} SET seq = CASE WHEN seq < ? THEN ? ELSE seq END WHERE name = ?",
            (seq, seq, name),
        )


async def copy_database(
    source: Database,
    target: Database,
    *,
    budget: float = 0.05,
    progress: Callable[[str], None] | None = None,
) -> list[Counted]:
    """Copy every row of ``source`` into the empty ``target``; the row counts of both."""
    tables = await _check(source, target)
    for table in tables:
        if progress is not None:
            progress(table)
        if table == _COUNTERS:
            await _merge_counters(source, target)
        else:
            await _copy_table(source, target, table, budget)
    return [Counted(t, await _count(source, t), await _count(target, t)) for t in tables]
