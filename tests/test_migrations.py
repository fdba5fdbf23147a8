"""Stairway test: every migration applies on an empty database, and each step upgrades."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from storage.awaited import AwaitedRepository
from storage.db import Database, migrations
from tests.conftest import NOW
from tests.helpers import eventually


async def _schema(db: Database) -> list[tuple[str, ...]]:
    if db.engine == "postgresql":  # every column, index, constraint and trigger, as written
        sql = (
            "SELECT table_name, column_name || ' ' || data_type || ' ' || is_nullable || ' ' "
            "|| COALESCE(column_default, '') FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name != 'schema_migrations' "
            "UNION ALL SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename != 'schema_migrations' "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = CAST(current_schema() AS regnamespace) "
            "UNION ALL SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
            "ORDER BY 1, 2"
        )
    else:
        sql = (
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name != 'schema_migrations' ORDER BY name"
        )
    return [tuple(row) for row in await db.conn.execute_fetchall(sql)]


async def test_migrations_are_numbered_upwards() -> None:
    versions = [m.version for m in migrations()]
    assert versions[0] == 1
    assert versions == sorted(set(versions))


@pytest.mark.parametrize("step", [0, *(m.version for m in migrations()[:-1])])
async def test_stairway(tmp_path: Path, step: int) -> None:
    """Migrate to ``step``, then to the latest: same schema as a fresh database."""
    fresh = await Database.open(tmp_path / "fresh.db")
    stepped = await Database.open(tmp_path / "stepped.db", migrate=False)
    try:
        assert await stepped.migrate(target=step) == step
        assert await stepped.version() == step
        latest = await stepped.migrate()
        assert latest == migrations()[-1].version
        assert await _schema(stepped) == await _schema(fresh)
        # Applying again is a no-op.
        assert await stepped.migrate() == latest
    finally:
        await fresh.close()
        await stepped.close()


async def test_failed_migration_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import engine as db_module

    broken = [
        *migrations(),
        db_module.Migration(
            migrations()[-1].version + 1, "broken", "CREATE TABLE x (a);\nNOT SQL;"
        ),
    ]
    monkeypatch.setattr(db_module, "migrations", lambda: broken)
    database = await Database.open(tmp_path / "b.db", migrate=False)
    try:
        with pytest.raises(Exception, match="syntax error"):
            await database.migrate()
        assert await database.version() == broken[-2].version
        assert "x" not in await database.tables()
    finally:
        await database.close()


def _connection_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@pytest.mark.sqlite_only  # aiosqlite's thread
async def test_a_failed_migration_closes_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot whose migration fails exits (its connection's thread would keep it alive)."""
    from storage import engine as db_module

    broken = [*migrations(), db_module.Migration(migrations()[-1].version + 1, "broken", "NOT;")]
    monkeypatch.setattr(db_module, "migrations", lambda: broken)
    before = _connection_threads()
    with pytest.raises(Exception, match="syntax error"):
        await Database.open(tmp_path / "b.db")
    await eventually(lambda: _connection_threads() <= before, 10.0, lambda: "thread left")


@pytest.mark.sqlite_only
async def test_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "w.db")
    try:
        async with database.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with database.conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
    finally:
        await database.close()


async def test_posts_in_progress_stay_awaited_answers(tmp_path: Path) -> None:
    """0012: a volunteer answering a post's questions before the upgrade is still asked after."""
    database = await Database.open(tmp_path / "d.db", migrate=False)
    try:
        await database.migrate(target=11)
        await database.conn.execute(
            "INSERT INTO groups (id, ref, name, kind, town, nation, lat, lon, created_at, "
            "updated_at) VALUES (1, 'g', 'G', 'group', 'Leeds', 'england', 53.8, -1.5, '', '')"
        )
        await database.conn.execute(
            "INSERT INTO activity_drafts (user_id, group_id, step, created_at, updated_at) "
            "VALUES (7, 1, 'venue', '2026-11-20T10:00:00+00:00', '2026-11-21T10:00:00+00:00')"
        )
        await database.migrate()
        awaited = AwaitedRepository(database)
        assert await awaited.get(7, "posting") == "venue"
        assert [a.user_id for a in await awaited.of("posting", NOW - timedelta(days=30))] == [7]
    finally:
        await database.close()
