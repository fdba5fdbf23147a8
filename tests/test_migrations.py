"""Stairway test: every migration applies on an empty database, and each step upgrades."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database, migrations


async def _schema(db: Database) -> list[tuple[str, str]]:
    async with db.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'schema_migrations' "
        "ORDER BY name"
    ) as cur:
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def test_migrations_are_numbered_from_one() -> None:
    versions = [m.version for m in migrations()]
    assert versions == list(range(1, len(versions) + 1))


@pytest.mark.parametrize("step", range(len(migrations())))
async def test_stairway(tmp_path: Path, step: int) -> None:
    """Migrate to ``step``, then to the latest: same schema as a fresh database."""
    fresh = await Database.open(tmp_path / "fresh.db")
    stepped = await Database.open(tmp_path / "stepped.db", migrate=False)
    try:
        assert await stepped.migrate(target=step) == step
        assert await stepped.version() == step
        latest = await stepped.migrate()
        assert latest == len(migrations())
        assert await _schema(stepped) == await _schema(fresh)
        # Applying again is a no-op.
        assert await stepped.migrate() == latest
    finally:
        await fresh.close()
        await stepped.close()


async def test_failed_migration_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import db as db_module

    broken = [
        *migrations(),
        db_module.Migration(len(migrations()) + 1, "broken", "CREATE TABLE x (a);\nNOT SQL;"),
    ]
    monkeypatch.setattr(db_module, "migrations", lambda: broken)
    database = await Database.open(tmp_path / "b.db", migrate=False)
    try:
        with pytest.raises(Exception, match="syntax error"):
            await database.migrate()
        assert await database.version() == len(broken) - 1
        async with database.conn.execute("SELECT name FROM sqlite_master WHERE name = 'x'") as cur:
            assert await cur.fetchone() is None
    finally:
        await database.close()


async def test_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "w.db")
    try:
        async with database.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with database.conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
    finally:
        await database.close()
