"""The PostgreSQL half of the tests: the same tests, each on a database of its own.

``SANCTUARY_TEST_ENGINE=postgresql`` (``make test`` sets it for its second half) runs the tests
against the server at ``SANCTUARY_TEST_POSTGRESQL`` (a URL whose role may create databases;
``.ci/postgresql`` starts a throwaway one). Every database a test opens by a file path
(``Database.open(tmp_path / "bot.db")``, the harness's ``bot.db``) is then a PostgreSQL database
made for that path: a copy of a template migrated once per run (``CREATE DATABASE ... TEMPLATE``,
a tenth of a second), or an empty one when the test opens it without migrating. The test
reopening the same path gets the same database back; they are dropped when the test ends.

Tests that are about SQLite itself (its file, PRAGMAs, query plans, backups) carry the
``sqlite_only`` mark and are left out of this half, those that need both engines (copy-db)
``postgresql_only`` and are left out of the SQLite half. ``make test`` runs this half with
``python -m tests.engines [pytest arguments]`` (see ``main``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENGINE = os.environ.get("SANCTUARY_TEST_ENGINE", "sqlite")
SERVER = os.environ.get("SANCTUARY_TEST_POSTGRESQL", "")
_TEMPLATE = f"sanctuary_template_{os.getpid()}"
_numbers = itertools.count(1)
_made: dict[str, str] = {}  # the path a test opened -> its database's URL
_template_ready = False
_files_too = [False]  # set by real_files(): file paths open SQLite files even on PostgreSQL


def on_postgresql() -> bool:
    """Whether this run is the PostgreSQL half."""
    return ENGINE == "postgresql"


def database_url(name: str) -> str:
    """The server's URL with another database name."""
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(SERVER)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _template() -> str:
    """The migrated template, made at this run's first database."""
    global _template_ready
    if not _template_ready:
        from storage.db import Database

        await _admin(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)")
        await _admin(f"CREATE DATABASE {_TEMPLATE}")
        db = await Database.open(database_url(_TEMPLATE))
        await db.close()
        _template_ready = True
    return _TEMPLATE


async def database_for(target: Path | str, *, migrate: bool) -> str:
    """The PostgreSQL database standing for a SQLite path in this test."""
    key = str(target)
    if key in _made and key != ":memory:":
        return _made[key]
    name = f"sanctuary_test_{os.getpid()}_{next(_numbers)}"
    template = await _template() if migrate else "template0"
    await _admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    _made[key if key != ":memory:" else name] = database_url(name)
    return _made[key if key != ":memory:" else name]


async def target(path: Path) -> str:
    """SANCTUARY_DB for a bot in a subprocess: the file, or the database standing for it."""
    return await database_for(path, migrate=True) if on_postgresql() else str(path)


def exists(path: Path) -> bool:
    """Whether the database at ``path`` was made already (the file, on SQLite)."""
    return str(path) in _made if on_postgresql() else path.exists()


async def drop_all() -> None:
    """Drop the databases this test made."""
    names = [urlsplit(url).path.lstrip("/") for url in _made.values()]
    _made.clear()
    for name in names:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def drop_template() -> None:
    """Drop the template at the end of the run."""
    if _template_ready:
        await _admin(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)")


def install() -> None:
    """Make ``Database.open`` of a file path open this test's PostgreSQL database instead."""
    from storage.db import Database, is_postgresql

    original = Database.open.__func__  # type: ignore[attr-defined]

    async def open_on_postgresql(
        cls: type[Database], target: Path | str, *, migrate: bool = True
    ) -> Database:
        if not is_postgresql(target) and not _files_too[0]:
            target = await database_for(target, migrate=migrate)
        db: Database = await original(cls, target, migrate=migrate)
        return db

    Database.open = classmethod(open_on_postgresql)  # type: ignore[assignment,method-assign]


@contextlib.contextmanager
def real_files() -> Iterator[None]:
    """Within: a file path opens that SQLite file (for tests that need both engines)."""
    _files_too[0] = True
    try:
        yield
    finally:
        _files_too[0] = False


def _server() -> tuple[str | None, str]:
    """The server to test on (SANCTUARY_TEST_POSTGRESQL, else .ci/postgresql's throwaway
    one), or None and why there is none."""
    if SERVER:
        return SERVER, ""
    script = Path(__file__).resolve().parents[1] / ".ci" / "postgresql"
    done = subprocess.run([script], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return done.stdout.strip(), ""


async def _answers(url: str) -> str | None:
    """Why the server at ``url`` cannot be used, or None when it answers."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[dev]')"
    try:
        conn = await asyncpg.connect(url, timeout=10)
        await conn.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"no PostgreSQL server answers at {urlsplit(url).netloc}: {exc}"
    return None


def main(argv: list[str]) -> int:
    """``python -m tests.engines [pytest arguments]``: run pytest as the PostgreSQL half. With
    no server, say so in one line and exit 0, or under CI (where the half must run) fail."""
    url, why = _server()
    if url is not None:
        why = asyncio.run(_answers(url)) or ""
    if why:
        if os.environ.get("CI"):
            print(
                f"FAILED: the PostgreSQL half of the tests cannot run in CI: {why}", file=sys.stderr
            )
            return 1
        print(f"PostgreSQL half of the tests did not run: {why}")
        return 0
    assert url is not None
    env = {**os.environ, "SANCTUARY_TEST_ENGINE": "postgresql", "SANCTUARY_TEST_POSTGRESQL": url}
    return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
