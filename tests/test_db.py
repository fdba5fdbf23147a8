"""The one shared connection: a transaction keeps other tasks' statements out of it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database

# About SQLite itself (its file, its one shared connection): the SQLite half only.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db", migrate=False)
    await database.conn.execute("CREATE TABLE t (who TEXT NOT NULL)")
    await database.conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await database.conn.execute(
        "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    yield database
    await database.close()


async def _rows(db: Database) -> list[str]:
    return sorted(row[0] for row in await db.conn.execute_fetchall("SELECT who FROM t"))


async def test_other_tasks_wait_for_an_open_transaction(db: Database) -> None:
    """A handler's write while the sender's transaction is open neither joins it (and is lost
    with its rollback) nor fails: it waits. A second transaction waits too."""
    opened, finish = asyncio.Event(), asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES ('rolled back')")
            opened.set()
            await finish.wait()
            raise LookupError("something went wrong in the middle")

    async def single_write() -> None:
        await db.conn.execute("INSERT INTO t VALUES ('single')")

    async def another_transaction() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES ('second transaction')")

    first = asyncio.create_task(failing_transaction())
    await opened.wait()
    others = [asyncio.create_task(single_write()), asyncio.create_task(another_transaction())]
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert not any(task.done() for task in others)  # waiting, not failed
    finish.set()
    with pytest.raises(LookupError):
        await first
    await asyncio.gather(*others)
    assert await _rows(db) == ["second transaction", "single"]
    assert not db.raw.in_transaction


async def test_a_failed_commit_is_rolled_back(db: Database) -> None:
    """A COMMIT refused (here a deferred foreign key) leaves no transaction open behind it."""
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO child VALUES (99)")
    assert not db.raw.in_transaction
    assert await db.conn.execute_fetchall("SELECT * FROM child") == []
    await db.conn.execute("INSERT INTO t VALUES ('after')")
    assert await _rows(db) == ["after"]


async def test_a_transaction_inside_a_transaction_is_refused(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(RuntimeError, match="inside a transaction"):
            async with db.transaction():
                pass
    assert not db.raw.in_transaction
