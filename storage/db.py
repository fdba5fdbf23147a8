"""The SQLite connection (aiosqlite, WAL) and the numbered migrations."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager as statement

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file of storage/migrations."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migrations shipped with the package, in order."""
    found: list[Migration] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    # Numbers go up; a gap is allowed (branches merged in any order each take their own
    # numbers), a number used twice is not.
    for before, migration in itertools.pairwise(found):
        if migration.version == before.version:
            raise RuntimeError(f"two migrations numbered {migration.version:04d}")
    return found


def upsert_sql(table: str, columns: tuple[str, ...], key: str) -> str:
    """INSERT ... ON CONFLICT (key) DO UPDATE for constant identifiers, values bound as ``?``.

    The columns are followed by created_at and updated_at; an update keeps created_at.
    """
    names = ", ".join((*columns, "created_at", "updated_at"))
    marks = ", ".join("?" * (len(columns) + 2))
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*columns, "updated_at") if c != key)
    return (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def utcnow() -> datetime:
    """Now, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def to_db(value: datetime) -> str:
    """A timezone-aware datetime as UTC ISO text."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return value.astimezone(UTC).isoformat()


def from_db(value: str) -> datetime:
    """UTC ISO text back to an aware datetime."""
    return datetime.fromisoformat(value)


def date_from_db(value: str | None) -> date | None:
    """ISO date text back to a date."""
    return date.fromisoformat(value) if value else None


class Connection:
    """The connection as the repositories use it.

    There is one connection, shared by every task (handlers, the outbox sender, jobs). While
    one task's transaction is open, a statement from another task would join it: a second
    BEGIN fails, and a write is lost with the other task's ROLLBACK. So a statement from
    outside an open transaction waits for it to end. Like aiosqlite's, ``execute`` may be
    awaited or used as ``async with`` (the cursor is then closed).
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    @statement
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        """Run one statement."""
        await self._db.turn()
        start = time.perf_counter()
        try:
            return await self._db.raw.execute(sql, parameters)
        finally:
            self._db.took(start)

    @statement
    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> aiosqlite.Cursor:
        """Run one statement for each set of parameters."""
        await self._db.turn()
        start = time.perf_counter()
        try:
            return await self._db.raw.executemany(sql, parameters)
        finally:
            self._db.took(start)

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[aiosqlite.Row]:
        """Run one statement and return every row."""
        await self._db.turn()
        start = time.perf_counter()
        try:
            return await self._db.raw.execute_fetchall(sql, parameters)
        finally:
            self._db.took(start)

    @property
    def total_changes(self) -> int:
        """Rows changed since the connection opened (exact inside one's own transaction)."""
        return self._db.raw.total_changes


class Database:
    """One aiosqlite connection in WAL mode, with foreign keys on.

    ``conn`` is for every statement; ``transaction()`` gives one task the connection alone.
    """

    def __init__(self, raw: aiosqlite.Connection, path: str) -> None:
        self.raw = raw
        self.path = path
        self.conn = Connection(self)
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        # Told how long each statement took, in seconds (the metrics' histogram), if set.
        self.observe: Callable[[float], None] | None = None

    def took(self, start: float) -> None:
        """A statement begun at ``start`` (time.perf_counter) has finished."""
        if self.observe is not None:
            self.observe(time.perf_counter() - start)

    async def turn(self) -> None:
        """Wait while another task's transaction is open."""
        if self._lock.locked() and self._owner is not asyncio.current_task():
            async with self._lock:
                pass  # nothing can start between here and the caller's statement

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Database:
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

    async def ping(self) -> None:
        """One trivial statement: raises when the database does not answer."""
        await self.conn.execute_fetchall("SELECT 1")

    async def version(self) -> int:
        """The highest migration applied (0 on an empty database)."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self.conn.execute("SELECT MAX(version) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations up to ``target`` (default: all), each in one transaction."""
        current = await self.version()
        for migration in migrations():
            if migration.version <= current or (target is not None and migration.version > target):
                continue
            # executescript commits anything pending first; the script opens its own transaction
            # and the version row joins it, so each file applies whole or not at all.
            async with self._alone():
                try:
                    await self.raw.executescript("BEGIN;\n" + migration.sql)
                    await self.raw.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (?, ?, ?)",
                        (migration.version, migration.name, to_db(utcnow())),
                    )
                    await self.raw.execute("COMMIT")
                except BaseException:
                    if self.raw.in_transaction:
                        await self.raw.execute("ROLLBACK")
                    raise
            current = migration.version
        return current

    @asynccontextmanager
    async def _alone(self) -> AsyncIterator[None]:
        """This task has the connection to itself: other tasks' statements wait."""
        if self._owner is not None and self._owner is asyncio.current_task():
            raise RuntimeError("a transaction inside a transaction")
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                yield
            finally:
                self._owner = None

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
