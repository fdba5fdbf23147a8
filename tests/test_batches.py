"""Jobs that write in short batches: interrupted half way, the next run finishes the work
without duplicates; erasing a person finds their rows through indexes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.outbox
from bot.delivery.reminders import digest_planner, weekly_post_planner
from bot.domain.campaigns import CampaignDesk, time_left
from bot.i18n import use_locale
from bot.views import campaigns as cv
from storage.alerts import AlertRepository
from storage.campaigns import CampaignRepository
from storage.db import Connection, Database, to_db
from storage.group_chats import GroupChatRepository
from storage.outbox import OutboxItem, OutboxRepository
from storage.personal import PersonalDataRepository
from storage.reminders import ReminderRepository
from storage.roles import COORDINATOR, NETWORK, RoleRepository
from storage.users import UserRepository
from tests.conftest import NOW, Harness
from tests.helpers import only
from tests.test_campaigns import COORD, compose

SUPPORTERS = 95
PERSONAL = (Path(__file__).resolve().parents[1] / "storage" / "personal.py").read_text("utf-8")
CHUNK = 10


class Crash(Exception):
    """Stands for kill -9 half way through a batch job."""


@pytest.fixture
async def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Database]:
    for module in (
        "bot.domain.campaigns",
        "bot.delivery.reminders",
        "storage.campaigns",
        "storage.outbox",
    ):
        monkeypatch.setattr(f"{module}.CHUNK", CHUNK)
    database = await Database.open(tmp_path / "b.db")
    stamp = to_db(NOW)
    async with database.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (id, locale, intent, created_at, updated_at) "
            "VALUES (?, 'en', 'supporter', ?, ?)",
            [(i, stamp, stamp) for i in range(1, SUPPORTERS + 1)],
        )
        await conn.executemany(
            "INSERT INTO alert_subs (user_id, topics, areas, created_at, updated_at) "
            "VALUES (?, 63, 7, ?, ?)",
            [(i, stamp, stamp) for i in range(1, SUPPORTERS + 1)],
        )
    yield database
    await database.close()


def _crash_on(calls: int, real: Any) -> Any:
    """``real``, failing on its ``calls``-th call."""
    count = 0

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        if count == calls:
            raise Crash
        return await real(*args, **kwargs)

    return wrapped


async def _value(db: Database, sql: str) -> Any:
    async with db.conn.execute(sql) as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


async def _call(db: Database) -> tuple[CampaignRepository, CampaignDesk, int]:
    campaigns = CampaignRepository(db)
    call = await campaigns.create(1, NOW)
    await campaigns.update(
        call.id, NOW, title="Lift the ban", body="Ask your MP.",
        action_url="https://example.org/act", topics=1,
    )  # fmt: skip
    desk = CampaignDesk(
        campaigns, AlertRepository(db), RoleRepository(db), lambda a, b: "", lambda: NOW,
        lambda: None,
    )  # fmt: skip
    return campaigns, desk, call.id


async def _interrupted_launch(
    db: Database, monkeypatch: pytest.MonkeyPatch, chunks: int
) -> tuple[CampaignRepository, CampaignDesk, int]:
    """A call launched and killed after queueing ``chunks`` chunks of its audience; the
    repository works again afterwards."""
    campaigns, desk, call = await _call(db)
    real = campaigns.queue_chunk
    monkeypatch.setattr(campaigns, "queue_chunk", _crash_on(chunks + 1, real))
    with pytest.raises(Crash):
        await desk.confirm(call, 1)
    monkeypatch.setattr(campaigns, "queue_chunk", real)
    return campaigns, desk, call


async def test_an_interrupted_launch_is_finished_by_the_next_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaigns, desk, _call_id = await _interrupted_launch(db, monkeypatch, 3)
    assert await _value(db, "SELECT COUNT(*) FROM outbox") == 3 * CHUNK
    assert await _value(db, "SELECT queued_until FROM campaigns") == 3 * CHUNK
    # Someone who subscribes after the launch is not part of its audience.
    later = to_db(NOW + timedelta(hours=1))
    await db.conn.execute(
        "INSERT INTO alert_subs (user_id, topics, areas, created_at, updated_at) "
        "VALUES (500, 63, 7, ?, ?)",
        (later, later),
    )
    assert await campaigns.finish_sent(NOW) == []  # not finished while half queued
    assert await desk.launch_due() == SUPPORTERS - 3 * CHUNK
    assert await _value(db, "SELECT COUNT(*) FROM outbox") == SUPPORTERS
    assert await _value(db, "SELECT COUNT(DISTINCT chat_id) FROM outbox") == SUPPORTERS
    assert await _value(db, "SELECT COUNT(*) FROM campaign_recipients") == SUPPORTERS
    assert await _value(db, "SELECT recipients FROM campaigns") == SUPPORTERS
    assert await _value(db, "SELECT queued_until FROM campaigns") is None
    assert await desk.launch_due() == 0  # nothing left to carry on


async def test_an_interrupted_digest_planning_is_finished_by_the_next_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NOW is a Monday at noon: the week's digests and group posts are due.
    await db.conn.execute(
        "UPDATE users SET weekly_digest = 1, area_lat = 51.5, area_lon = -0.1 WHERE id % 2 = 1"
    )
    users, outbox = UserRepository(db), OutboxRepository(db)
    pages: list[int] = []
    real = users.digest_readers

    async def read(after: int, limit: int) -> list[int]:
        page = await real(after, limit)
        pages.append(len(page))
        return page

    monkeypatch.setattr(users, "digest_readers", _crash_on(4, read))
    planner = digest_planner(users, outbox, lambda: NOW, "Europe/London")
    with pytest.raises(Crash):
        await planner.plan()
    assert pages == [CHUNK] * 3  # read a page at a time, not all readers at once
    assert await _value(db, "SELECT COUNT(*) FROM outbox") == 3 * CHUNK  # written as it went
    readers = (SUPPORTERS + 1) // 2
    assert await planner.plan() == readers - 3 * CHUNK
    assert await _value(db, "SELECT COUNT(DISTINCT chat_id) FROM outbox") == readers
    assert await _value(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'digest'") == readers
    assert max(pages) <= CHUNK
    assert await planner.plan() == 0  # done for the week
    restarted = digest_planner(users, outbox, lambda: NOW, "Europe/London")
    assert await restarted.plan() == 0  # a restart adds nobody twice


async def test_weekly_group_posts_are_planned_page_by_page(db: Database) -> None:
    await db.conn.execute(
        "INSERT INTO groups (id, ref, name, kind, town, nation, lat, lon, created_at, "
        "updated_at) VALUES (1, 'g', 'Group', 'group', 'Leeds', 'England', 53.8, -1.5, ?, ?)",
        (to_db(NOW), to_db(NOW)),
    )
    chats = [-1_000_000_000_000 - n for n in range(2 * CHUNK + 3)]  # group chat ids < 0
    await db.conn.executemany(
        "INSERT INTO group_chats (chat_id, group_id, locale, weekly, created_at, updated_at) "
        "VALUES (?, 1, 'cy', 1, ?, ?)",
        [(chat, to_db(NOW), to_db(NOW)) for chat in chats],
    )
    outbox = OutboxRepository(db)
    planner = weekly_post_planner(GroupChatRepository(db), outbox, lambda: NOW, "Europe/London")
    assert await planner.plan() == len(chats)
    async with db.conn.execute("SELECT chat_id, payload FROM outbox WHERE kind = 'weekly'") as cur:
        rows = await cur.fetchall()
    assert sorted(r[0] for r in rows) == sorted(chats)
    assert {r[1] for r in rows} == {'{"group_id": 1, "locale": "cy"}'}


async def test_an_interrupted_resume_is_finished_by_the_next_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _campaigns, desk, call = await _call(db)
    await desk.confirm(call, 1)
    assert await desk.pause(call, 1)
    outbox = OutboxRepository(db)
    assert await outbox.counts("campaign") == {"cancelled": SUPPORTERS}
    real = db.transaction
    chunks = 0

    @asynccontextmanager
    async def second_chunk_never_comes() -> AsyncIterator[Connection]:
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            raise Crash
        async with real() as conn:
            yield conn

    monkeypatch.setattr(db, "transaction", second_chunk_never_comes)
    with pytest.raises(Crash):
        await desk.resume(call, 1)
    assert await outbox.counts("campaign") == {"pending": CHUNK, "cancelled": SUPPORTERS - CHUNK}
    monkeypatch.setattr(db, "transaction", real)
    assert await desk.finish() == []  # the planner's next run puts the rest back
    assert await outbox.counts("campaign") == {"pending": SUPPORTERS}


async def test_an_interrupted_purge_counts_nothing_twice(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = OutboxRepository(db)
    old = to_db(NOW - timedelta(days=100))
    await db.conn.executemany(
        "INSERT INTO outbox (kind, subject, chat_id, state, not_before, created_at, updated_at) "
        "VALUES ('digest', 'w', ?, 'sent', ?, ?, ?)",
        [(i, old, old, old) for i in range(1, 36)],
    )
    real = storage.outbox.delete_counted
    monkeypatch.setattr(storage.outbox, "delete_counted", _crash_on(3, real))
    with pytest.raises(Crash):
        await outbox.purge_finished(NOW - timedelta(days=90), CHUNK)
    assert sum((await outbox.tally()).values()) == 2 * CHUNK
    assert await outbox.counts() == {"sent": 35 - 2 * CHUNK}
    monkeypatch.setattr(storage.outbox, "delete_counted", real)
    assert await outbox.purge_finished(NOW - timedelta(days=90), CHUNK) == 35 - 2 * CHUNK
    assert await outbox.tally() == {(old[:7], "digest", "sent"): 35}
    assert await outbox.counts() == {}


@pytest.mark.sqlite_only  # SQLite's query plans
async def test_erase_finds_a_persons_rows_through_indexes(db: Database) -> None:
    big = ("audit_log", "outbox", "reports", "feedback", "reminders", "campaign_recipients")
    statements = re.findall(r'"((?:DELETE FROM|UPDATE) (\w+) [^"]+ = \?)"', PERSONAL)
    checked = 0
    for sql, table in statements:
        if table not in big:
            continue
        async with db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", (1,)) as cur:
            plan = " ".join(str(r[3]) for r in await cur.fetchall())
        assert f"SCAN {table}" not in plan, (sql, plan)
        checked += 1
    assert checked >= 6


@pytest.mark.sqlite_only  # SQLite's query plans
async def test_a_starting_sender_finds_recent_chats_through_indexes(db: Database) -> None:
    # Not a scan of every outbox row (millions after 12 weeks) each time the bot starts,
    # whatever SQLite's statistics say (here: every row sent, as after weeks of sending).
    outbox = OutboxRepository(db)
    await outbox.enqueue(OutboxItem("digest", "2026-W47", i) for i in range(1, SUPPORTERS + 1))
    await db.conn.execute("UPDATE outbox SET state = 'sent'")
    await db.conn.execute("ANALYZE")
    statements: list[str] = []
    await db.raw.set_trace_callback(statements.append)
    await outbox.recent_chats(NOW - timedelta(minutes=1))
    await db.raw.set_trace_callback(None)
    selects = [sql for sql in statements if sql.lstrip().startswith("SELECT")]
    assert len(selects) == 2
    for sql in selects:
        async with db.conn.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
            plan = " ".join(str(r[3]) for r in await cur.fetchall())
        assert "SCAN outbox" not in plan, (sql, plan)


@pytest.mark.sqlite_only  # SQLite's query planner and its statistics
async def test_retention_finds_whom_it_asked_through_an_index(db: Database) -> None:
    # Not a read of every person (a million at national scale) each hourly run, to find the
    # few asked a month ago whether to stay.
    users = UserRepository(db)
    await users.mark_asked([3, 5, 8], NOW - timedelta(days=40))
    # statistics from before the index came (a database analysed, then migrated)
    await db.conn.execute("ANALYZE")
    await db.conn.execute("DELETE FROM sqlite_stat1 WHERE idx = 'users_retention_asked'")
    await db.conn.execute("ANALYZE sqlite_schema")
    statements: list[str] = []
    await db.raw.set_trace_callback(statements.append)
    assert await users.unanswered_since(NOW - timedelta(days=30)) == [3, 5, 8]
    await db.raw.set_trace_callback(None)
    (sql,) = [s for s in statements if s.lstrip().startswith("SELECT")]
    async with db.conn.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
        plan = " ".join(str(r[3]) for r in await cur.fetchall())
    assert "SCAN users" not in plan, (sql, plan)


@pytest.mark.sqlite_only  # SQLite's query planner and its statistics
async def test_the_planner_finds_new_reminders_through_their_index(db: Database) -> None:
    # A minute's run reads what was asked for since the last one, not every reminder, with
    # statistics like a national database's (200,000 reminders, 80,000 activities).
    await db.conn.execute("ANALYZE")
    await db.conn.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'reminders'")
    await db.conn.execute(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('reminders', 'reminders_activity', "
        "'200000 3'), ('reminders', 'reminders_created', '200000 2')"
    )
    await db.conn.execute("ANALYZE sqlite_schema")
    statements: list[str] = []
    await db.raw.set_trace_callback(statements.append)
    assert await ReminderRepository(db).subscribed_since(NOW) == []
    await db.raw.set_trace_callback(None)
    (sql,) = [s for s in statements if s.lstrip().startswith("SELECT")]
    async with db.conn.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
        plan = " ".join(str(r[3]) for r in await cur.fetchall())
    assert "SCAN reminders" not in plan, (sql, plan)


async def test_coordinators_see_how_long_a_call_still_needs(db: Database) -> None:
    campaigns, desk, call = await _call(db)
    await desk.confirm(call, 1)
    sending = await campaigns.get(call)
    assert sending is not None
    # Just launched: at the sender's limit (95 messages at 30/s: about a minute).
    figures = await campaigns.figures(sending)
    assert await time_left(campaigns, sending, figures, 30.0, NOW) == pytest.approx(95 / 30)
    with use_locale("en"):
        view = cv.campaign_list([(sending, figures)], {call: 95 / 30})
    assert "⏱ About 1 minute more to reach everyone at the current rate" in view.text
    # Sending a while: at the rate of the last minute (60 sent in it: 1 a second).
    half = to_db(NOW + timedelta(seconds=30))
    await db.conn.execute(
        "UPDATE outbox SET state = 'sent', updated_at = ? WHERE chat_id <= 60", (half,)
    )
    later = NOW + timedelta(minutes=1)
    figures = await campaigns.figures(sending)
    assert await time_left(campaigns, sending, figures, 30.0, later) == pytest.approx(35.0)
    with use_locale("en"):
        assert "About 3 hours more" in cv.time_left_line(3 * 3600)
    with use_locale("ru"):
        assert "2 минуты" in cv.time_left_line(120)
    with use_locale("ar"):
        assert "ساعات" in cv.time_left_line(5 * 3600)
    # Paused or finished calls have no time left to show.
    await desk.pause(call, 1)
    paused = await campaigns.get(call)
    assert paused is not None
    assert await time_left(campaigns, paused, figures, 30.0, later) is None


async def test_forgetting_the_last_person_queued_restarts_an_interrupted_launch(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _campaigns, desk, _call_id = await _interrupted_launch(db, monkeypatch, 1)
    assert await _value(db, "SELECT queued_until FROM campaigns") == CHUNK  # a person's id
    await PersonalDataRepository(db).erase(CHUNK)
    assert await _value(db, "SELECT queued_until FROM campaigns") == 0
    await desk.launch_due()  # starts again from the first; nobody twice, the forgotten never
    assert await _value(db, "SELECT COUNT(*) FROM outbox") == SUPPORTERS - 1
    assert await _value(db, "SELECT COUNT(*) FROM campaign_recipients") == SUPPORTERS - 1


async def test_campaigns_shows_the_time_a_sending_call_still_needs(bot: Harness) -> None:
    services = bot.services
    await services.stop_sender()  # the call's messages stay queued while we look
    await services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    for user_id in range(800_001, 800_061):
        await services.users.set_locale(user_id, "en")
        await services.alerts.set(user_id, 1, 1, NOW)
    await compose(bot)
    chat = bot.chat(COORD)
    await chat.press("Confirm")
    await chat.press("Yes, send")
    listed = only(await chat.send("/campaigns"))
    assert "⏳ pending 60" in listed.plain_text()
    assert "⏱ About 1 minute more to reach everyone at the current rate" in listed.plain_text()
