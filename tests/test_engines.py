"""The database layer on the engine of this run (SQLite, or PostgreSQL in the second half of
``make test``): values read back as written, counts, transactions; and copy-db both ways."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import commands as cli
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from storage.db import Database, SQLiteDatabase, from_db, to_db
from storage.roles import COORDINATOR, NETWORK, RoleRepository
from tests import engines
from tests.conftest import NOW, start_bot
from tests.data import LEEDS
from tests.helpers import only
from tests.test_reminders import _subscribe_to_first

BIG = 7_123_456_789  # a Telegram user id past 2^31
GROUP_CHAT = -1_001_234_567_890


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "e.db")
    yield database
    await database.close()


async def test_every_column_type_reads_back_as_written(db: Database) -> None:
    """Times (UTC ISO text), booleans (0/1), JSON (text), 64-bit ids, reals, bytes, NULL."""
    when = datetime(2026, 11, 23, 12, 30, 15, tzinfo=UTC)
    payload = {"title": "Café ☕ «مرحبا»", "ids": [BIG, GROUP_CHAT], "ok": True, "x": None}
    await db.conn.execute(
        "INSERT INTO users (id, locale, area_lat, area_lon, created_at, updated_at, "
        "weekly_digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (BIG, "ar", 53.8, -1.55, to_db(when), to_db(when), True),
    )
    await db.conn.execute(
        "INSERT INTO outbox (kind, subject, chat_id, payload, not_before, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("notice", "s", GROUP_CHAT, json.dumps(payload, ensure_ascii=False), to_db(when), "", ""),
    )
    await db.conn.execute("INSERT INTO secrets (name, value) VALUES (?, ?)", ("k", b"\x00\xff"))
    (user,) = await db.conn.execute_fetchall(
        "SELECT id, locale, area_lat, area_lon, created_at, weekly_digest, area_label "
        "FROM users WHERE id = ?",
        (BIG,),
    )
    assert tuple(user) == (BIG, "ar", 53.8, -1.55, to_db(when), 1, None)
    assert user["locale"] == "ar" and from_db(user["created_at"]) == when
    assert type(user["weekly_digest"]) is int and type(user["area_lat"]) is float
    async with db.conn.execute("SELECT chat_id, payload FROM outbox") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == GROUP_CHAT and json.loads(row[1]) == payload
    async with db.conn.execute("SELECT value FROM secrets WHERE name = ?", ("k",)) as cur:
        secret = await cur.fetchone()
    assert secret is not None and bytes(secret[0]) == b"\x00\xff"
    # Sums of integers are integers, averages floats, comparisons 0/1-like, on both engines.
    (figures,) = await db.conn.execute_fetchall(
        "SELECT COUNT(*), SUM(id), AVG(area_lat), MAX(created_at), SUM(weekly_digest) FROM users"
    )
    assert tuple(figures) == (1, BIG, 53.8, to_db(when), 1)
    assert type(figures[1]) is int and type(figures[2]) is float
    # '?' inside quotes is text, not a placeholder; SQLite's numbered ?NNN work on both.
    (quoted,) = await db.conn.execute_fetchall(
        "SELECT 'who? -- not a comment', ?, CAST(?1 AS TEXT) || ?2", ("x", "y")
    )
    assert tuple(quoted) == ("who? -- not a comment", "x", "xy")


async def test_row_counts_of_each_kind_of_statement(db: Database) -> None:
    rows = [(n, "2026-11-23T12:00:00+00:00") for n in (1, 2, 3)]
    insert = "INSERT INTO handled_updates (update_id, handled_at) VALUES (?, ?)"
    async with db.conn.executemany(insert, rows) as cur:
        assert cur.rowcount == 3
    async with db.conn.executemany(insert + " ON CONFLICT DO NOTHING", [*rows, (4, "x")]) as cur:
        assert cur.rowcount == 1  # only the new one
    async with db.conn.execute(
        "UPDATE handled_updates SET handled_at = ? WHERE update_id > ?", ("y", 1)
    ) as cur:
        assert cur.rowcount == 3
    async with db.conn.execute(
        "DELETE FROM handled_updates WHERE update_id IN (?, ?) RETURNING update_id", (1, 9)
    ) as cur:
        assert [tuple(r) for r in await cur.fetchall()] == [(1,)]
    async with db.conn.execute("SELECT update_id FROM handled_updates ORDER BY 1") as cur:
        assert await cur.fetchone() is not None
        assert [r[0] for r in await cur.fetchall()] == [3, 4]
        assert await cur.fetchone() is None


async def test_a_failed_transaction_leaves_nothing_and_transactions_take_turns(
    db: Database,
) -> None:
    insert = "INSERT INTO handled_updates (update_id, handled_at) VALUES (?, ?)"
    with pytest.raises(LookupError):
        async with db.transaction() as conn:
            await conn.execute(insert, (1, "x"))
            raise LookupError("something went wrong in the middle")
    assert list(await db.conn.execute_fetchall("SELECT * FROM handled_updates")) == []

    order: list[str] = []
    opened, finish = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.transaction() as conn:
            await conn.execute(insert, (1, "x"))
            # a statement through db.conn inside the transaction is part of it
            await db.conn.execute(insert, (2, "x"))
            opened.set()
            await finish.wait()
            order.append("first")

    async def second() -> None:
        async with db.transaction() as conn:
            order.append("second")
            await conn.execute(insert, (3, "x"))

    tasks = [asyncio.create_task(first())]
    await opened.wait()
    tasks.append(asyncio.create_task(second()))
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert order == []  # the second waits for the first to end
    finish.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "second"]
    with pytest.raises(RuntimeError, match="inside a transaction"):
        async with db.transaction(), db.transaction():
            pass
    (count,) = await db.conn.execute_fetchall("SELECT COUNT(*) FROM handled_updates")
    assert count[0] == 3


async def _rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in key order; not the directory's change numbers (a running
    bot's bookmarks, which a copy numbers anew: storage.copy)."""
    found = {}
    for table in await db.tables():
        if table == "change_counter":
            continue
        columns, key = await db.columns(table)
        names = ", ".join(c for c in columns if c != "change_seq")
        order = ", ".join(key)
        rows = await db.conn.execute_fetchall(f"SELECT {names} FROM {table} ORDER BY {order}")
        found[table] = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows
        ]
    return found


@pytest.mark.postgresql_only
async def test_copy_db_postgresql_to_sqlite_and_back_then_a_journey_on_the_copy(
    tmp_path: Path,
    gazetteer: Gazetteer,
    outcodes: Outcodes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A network on PostgreSQL in use: people, a reminder, roles, messages sent.
    async for bot in start_bot(tmp_path / "a", gazetteer, outcodes):
        await _subscribe_to_first(bot, 4101)
        await RoleRepository(bot.services.db).grant(4102, COORDINATOR, NETWORK, None, NOW)
    original_url = await engines.database_for(tmp_path / "a" / "bot.db", migrate=True)
    original = await Database.open(original_url)
    before = await _rows(original)
    assert before["users"] and before["activities"] and before["audit_log"] and before["reminders"]

    # PostgreSQL -> SQLite file
    sqlite_copy = tmp_path / "copy.db"
    with engines.real_files():
        assert await asyncio.to_thread(cli.main, ["copy-db", original_url, str(sqlite_copy)]) == 0
    out = capsys.readouterr().out
    counts = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:-1]}
    n = str(len(before["activities"]))
    assert counts["activities"] == [n, n] and len(counts) == len(before) + 1
    assert "copied " in out.splitlines()[-1]
    on_sqlite = await SQLiteDatabase.connect(sqlite_copy)
    assert await _rows(on_sqlite) == before
    await on_sqlite.close()
    # ...copying into it again is refused: TO must be empty.
    with engines.real_files():
        assert await asyncio.to_thread(cli.main, ["copy-db", original_url, str(sqlite_copy)]) == 1
    assert "TO is not empty" in capsys.readouterr().err

    # SQLite file -> a new, empty PostgreSQL database: the same rows again.
    back_url = await engines.database_for(tmp_path / "b" / "bot.db", migrate=False)
    with engines.real_files():
        assert await asyncio.to_thread(cli.main, ["copy-db", str(sqlite_copy), back_url]) == 0
    back = await Database.open(back_url)
    assert await _rows(back) == before
    # New rows are numbered after the copied ones (the id sequences were moved on).
    await RoleRepository(back).grant(4103, COORDINATOR, NETWORK, None, NOW + timedelta(minutes=1))
    (newest,) = await back.conn.execute_fetchall("SELECT MAX(id) FROM audit_log")
    assert newest[0] > max(row[0] for row in before["audit_log"])
    await back.close()
    await original.close()

    # The bot runs on the copy: the person's reminder is there, and a new search works.
    async for bot in start_bot(tmp_path / "b", gazetteer, outcodes):
        chat = bot.chat(4101, "en")
        listed = only(await chat.send("/reminders"))
        assert "Conversation café" in listed.plain_text()
        results = await bot.chat(4104, "en").share_location(*LEEDS)
        assert any("Conversation café" in m.plain_text() for m in results)
