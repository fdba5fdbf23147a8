"""The database: SQLite (aiosqlite, WAL), the default, and the engine interface it shares
with PostgreSQL (storage/engine.py, storage/postgresql.py). The repositories import from here."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager as statement

# PostgresDatabase is one of Database's engines (Database.open chooses among them).
from storage.engine import (
    Connection,
    Cursor,
    Database,
    Migration,
    Row,
    date_from_db,
    from_db,
    is_postgresql,
    migrations,
    to_db,
    upsert_sql,
    utcnow,
)
from storage.postgresql import PostgresDatabase

__all__ = [
    "Connection",
    "Cursor",
    "Database",
    "Migration",
    "PostgresDatabase",
    "Row",
    "SQLiteDatabase",
    "date_from_db",
    "from_db",
    "is_postgresql",
    "migrations",
    "to_db",
    "upsert_sql",
    "utcnow",
]


class SQLiteConnection(Connection):
    """The one aiosqlite connection, shared by every task (handlers, the outbox sender, jobs).

    While one task's transaction is open, a statement from another task would join it: a
    second BEGIN fails, and a write is lost with the other task's ROLLBACK. So a statement from
    outside an open transaction waits for it to end.
    """

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db

    @statement
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        """Run one statement."""
        await self._db.turn()
        start = time.perf_counter()
        try:
            return await self._db.raw.execute(sql, parameters)
        finally:
            self._db.took(start)

    @statement
    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement for each set of parameters."""
        await self._db.turn()
        start = time.perf_counter()
        try:
            return await self._db.raw.executemany(sql, parameters)
        finally:
            self._db.took(start)

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[Row]:
        """Run one statement and return every row."""
        await self._db.turn()
        start = time.perf_counter()
        try:
            return await self._db.raw.execute_fetchall(sql, parameters)
        finally:
            self._db.took(start)


class SQLiteDatabase(Database):
    """One aiosqlite connection in WAL mode, with foreign keys on; ``transaction()`` gives one
    task the connection alone (BEGIN IMMEDIATE)."""

    engine = "sqlite"

    def __init__(self, raw: aiosqlite.Connection, path: str) -> None:
        super().__init__()
        self.raw = raw
        self.path = path
        self.conn = SQLiteConnection(self)

    @classmethod
    def accepts(cls, target: Path | str) -> bool:
        """A file path (or ``:memory:``): anything but a PostgreSQL URL."""
        return not is_postgresql(target)

    @classmethod
    async def connect(cls, path: Path | str, *, migrate: bool = True) -> SQLiteDatabase:
        """Open (creating folders as needed) and bring the schema up to date."""
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(target, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            db = cls(conn, target)
            if migrate:
                await db.migrate()
        except BaseException:
            # The connection's thread would keep the process alive: a bot whose migration
            # failed must exit (and be restarted by systemd), not hang.
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection."""
        await self.raw.close()

    async def tables(self) -> list[str]:
        rows = await self.conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'schema_migrations' ORDER BY rowid"
        )
        return [str(row[0]) for row in rows]

    async def columns(self, table: str) -> tuple[list[str], list[str]]:
        rows = list(await self.conn.execute_fetchall(f'PRAGMA table_info("{table}")'))
        key = sorted((int(row["pk"]), str(row["name"])) for row in rows if row["pk"])
        return [str(row["name"]) for row in rows], [name for _, name in key]

    async def renumber(self, table: str) -> None:
        """Nothing to do: SQLite numbers a new row after the largest rowid."""

    async def _apply(self, migration: Migration) -> None:
        # executescript commits anything pending first; the script opens its own transaction
        # and the version row joins it, so each file applies whole or not at all.
        try:
            await self.raw.executescript("BEGIN;\n" + migration.sql_for(self.engine))
            await self.raw.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db(utcnow())),
            )
            await self.raw.execute("COMMIT")
        except BaseException:
            if self.raw.in_transaction:
                await self.raw.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error; other tasks wait meanwhile."""
        async with self._alone():
            await self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                await self.raw.execute("COMMIT")
            except BaseException:
                if self.raw.in_transaction:
                    await self.raw.execute("ROLLBACK")
                raise
