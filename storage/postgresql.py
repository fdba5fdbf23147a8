"""PostgreSQL behind storage.engine's interface, through asyncpg (the ``postgresql`` extra).

The repositories' SQL arrives as written for both engines: ``?`` placeholders become ``$1``,
``$2``... (outside quotes and comments), once per distinct statement. Statements outside a
transaction each take a connection of the pool for their own time, so a read never waits for
another task's transaction; transactions take one connection for the whole block, and within one
process they are taken one at a time, as SQLite's are, so the repositories' read-then-write
steps mean the same on both engines. Numeric results (``SUM`` of a BIGINT, ``AVG``) read back as
int or float, as SQLite gives them, not Decimal.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiosqlite.context import contextmanager as statement

from storage.engine import (
    Connection,
    Cursor,
    Database,
    Migration,
    Row,
    is_postgresql,
    to_db,
    utcnow,
)

if TYPE_CHECKING:  # imported when first connecting: SQLite alone does not need it
    import asyncpg

# A quoted string, a quoted name, a comment, or a placeholder (``?`` or SQLite's numbered
# ``?NNN``): only the last is rewritten.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/|\?(\d*)", re.DOTALL)
_RETURNS_ROWS = re.compile(r"^\s*(?:SELECT|WITH|VALUES|EXPLAIN|SHOW)\b|\bRETURNING\b", re.I)
_PLAIN_INSERT = re.compile(r"^\s*INSERT\s+INTO\b", re.I)
_NOT_PLAIN = re.compile(r"\bON\s+CONFLICT\b|\bRETURNING\b|\bSELECT\b", re.I)
# Several instances may start at once: one migrates, the others wait, then find it done.
_MIGRATION_LOCK = 0x53414E43  # "SANC"


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1``, ``$2``... (``?2`` as ``$2``; a bare ``?``
    after it is the next number, as in SQLite)."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if not match[0].startswith("?"):
            return match[0]
        if match[1]:
            count = max(count, int(match[1]))
            return f"${int(match[1])}"
        count += 1
        return f"${count}"

    return _TOKENS.sub(number, sql)


def _number(text: str) -> int | float:
    """A NUMERIC as SQLite would give it: an int when whole, else a float."""
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _setup(con: asyncpg.Connection) -> None:
    await con.set_type_codec(
        "numeric", encoder=str, decoder=_number, schema="pg_catalog", format="text"
    )


class PgCursor:
    """A statement's rows (all read at once) and the number of rows it changed."""

    def __init__(self, rows: Sequence[Row], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[Row]:
        rest = list(self._rows[self._next :])
        self._next = len(self._rows)
        return rest

    async def close(self) -> None:
        """Nothing to release: the rows were read whole."""


def _changed(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


async def _run(con: asyncpg.Connection, sql: str, args: Sequence[Any]) -> PgCursor:
    query = numbered(sql)
    if _RETURNS_ROWS.search(sql):
        rows = await con.fetch(query, *args)
        returning = not sql.lstrip()[:6].upper().startswith(("SELECT", "VALUES", "EXPLAI"))
        return PgCursor(rows, len(rows) if returning else -1)
    return PgCursor((), _changed(await con.execute(query, *args)))


class PostgresConnection(Connection):
    """Statements go to this task's open transaction, else to a connection of the pool."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self._db.in_transaction() and self._db.tx is not None:
            yield self._db.tx
        else:
            async with self._db.pool.acquire() as con:
                yield con

    @statement
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        """Run one statement."""
        start = time.perf_counter()
        try:
            async with self._connection() as con:
                return await _run(con, sql, tuple(parameters or ()))
        finally:
            self._db.took(start)

    @statement
    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement for each set of parameters (in one transaction of its own when
        outside one); ``rowcount`` adds up the rows each changed, as SQLite's does."""
        start = time.perf_counter()
        query, total = numbered(sql), 0
        try:
            async with self._connection() as con, con.transaction():
                if _PLAIN_INSERT.match(sql) and not _NOT_PLAIN.search(sql):
                    # each row inserted or an error: asyncpg's pipelined executemany is exact
                    rows = [tuple(args) for args in parameters]
                    await con.executemany(query, rows)
                    return PgCursor((), len(rows))
                for args in parameters:
                    total += _changed(await con.execute(query, *args))
            return PgCursor((), total)
        finally:
            self._db.took(start)

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> list[Row]:
        """Run one statement and return every row."""
        start = time.perf_counter()
        try:
            async with self._connection() as con:
                return await (await _run(con, sql, tuple(parameters or ()))).fetchall()
        finally:
            self._db.took(start)


class PostgresDatabase(Database):
    """A pool of asyncpg connections to one PostgreSQL database."""

    engine = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        super().__init__()
        self.pool = pool
        self.path = url
        self.conn = PostgresConnection(self)
        self.tx: asyncpg.Connection | None = None  # the open transaction's connection

    @classmethod
    def accepts(cls, target: Path | str) -> bool:
        """A ``postgresql://`` URL."""
        return is_postgresql(target)

    @classmethod
    async def connect(
        cls, target: Path | str, *, migrate: bool = True, max_size: int = 10
    ) -> PostgresDatabase:
        """Connect a pool and bring the schema up to date."""
        try:
            import asyncpg
        except ModuleNotFoundError as exc:
            raise RuntimeError(
                "PostgreSQL needs asyncpg: pip install 'sanctuary-bot[postgresql]'"
            ) from exc
        url = str(target)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, init=_setup)
        try:
            db = cls(pool, url)
            if migrate:
                await db.migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self.pool.close()

    async def tables(self) -> list[str]:
        rows = await self.conn.execute_fetchall(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
            "AND c.relname != 'schema_migrations' ORDER BY c.oid"
        )
        return [str(row[0]) for row in rows]

    async def columns(self, table: str) -> tuple[list[str], list[str]]:
        names = await self.conn.execute_fetchall(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        key = await self.conn.execute_fetchall(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = CAST(? AS regclass) "
            "AND i.indisprimary ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)",
            (table,),
        )
        return [str(row[0]) for row in names], [str(row[0]) for row in key]

    async def renumber(self, table: str) -> None:
        """Move the table's identity sequence (if it has one) past the largest id."""
        columns, _ = await self.columns(table)
        if "id" in columns:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence(?, 'id'), MAX(id)) FROM \"{table}\"",
                (table,),
            )

    async def _apply(self, migration: Migration) -> None:
        async with self.pool.acquire() as con, con.transaction():
            await con.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            done = await con.fetchval(
                "SELECT 1 FROM schema_migrations WHERE version = $1", migration.version
            )
            if done:  # another instance applied it while this one waited
                return
            await con.execute(migration.sql_for(self.engine))
            await con.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                to_db(utcnow()),
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """BEGIN ... COMMIT on one connection, rolled back on any error; this process's
        other transactions wait meanwhile (its single statements do not)."""
        async with self._alone(), self.pool.acquire() as con:
            self.tx = con
            try:
                async with con.transaction():
                    yield self.conn
            finally:
                self.tx = None
