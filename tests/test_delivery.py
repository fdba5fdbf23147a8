"""The delivery path: outbox rows sent within Telegram's limits, faults handled, nothing lost."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Bot

from bot.delivery.outbox import RateLimiter, Sender
from bot.delivery.transport import AiohttpRequest
from bot.i18n import gettext
from bot.views.common import View, expired
from storage.db import Database
from storage.outbox import OutboxItem, OutboxRepository, OutboxRow
from storage.users import UserRepository
from tests.fakeapi import FakeBotAPI


def test_limiter_spacing_with_a_fake_clock() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=30, clock=lambda: now[0])
    rng = random.Random(5)
    sends: list[tuple[float, int]] = []
    chats = [*range(1, 40), -100, -200]
    for _ in range(600):
        chat = rng.choice(chats)
        now[0] = max(now[0], limiter.ready_at(chat))
        limiter.record(chat)
        assert limiter.ready_at(chat) == math.inf or chat < 0  # not before its answer
        limiter.landed(chat)  # answered at once
        sends.append((now[0], chat))
    times = [t for t, _c in sends]
    for i, t in enumerate(times):  # no one-second window holds more than 30
        assert sum(1 for u in times[i : i + 32] if u < t + 1.0) <= 30
    last: dict[int, float] = {}
    group: dict[int, list[float]] = {}
    for t, chat in sends:
        if chat > 0:
            assert chat not in last or t - last[chat] >= 1.0
            last[chat] = t
        else:
            window = [u for u in group.setdefault(chat, []) if u > t - 60.0]
            assert len(window) < 20
            group[chat].append(t)
    fresh = RateLimiter(per_second=30, clock=lambda: now[0])
    start = now[0]
    for chat in range(1000, 1030):  # thirty different people: about a second, not more
        now[0] = max(now[0], fresh.ready_at(chat))
        fresh.record(chat)
    assert now[0] - start < 1.0
    limiter.pause(10)
    assert limiter.ready_at(1) >= now[0] + 10


async def _text(row: OutboxRow) -> View | None:
    if row.payload.get("gone"):
        return None
    return View(f"{gettext(expired())} #{row.payload['n']}")


@dataclass
class Rig:
    server: FakeBotAPI
    db: Database
    outbox: OutboxRepository
    users: UserRepository
    sender: Sender

    async def drain(self, rounds: int = 50) -> None:
        for _ in range(rounds):
            await self.sender.run_once()
            counts = await self.outbox.counts()
            if not counts.get("pending") and not counts.get("sending"):
                return
            due = await self.outbox.next_due()
            if due is not None:
                import asyncio

                await asyncio.sleep(max(0.0, min(2.0, (due - self.sender.now()).total_seconds())))
        raise AssertionError(f"outbox not drained: {await self.outbox.counts()}")

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.server.messages(chat_id)]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with FakeBotAPI() as server:
        server.timeout_hold = 2.0
        server.enforce_limits(per_second_total=200, per_chat_per_second=1, per_group_per_minute=20)
        db = await Database.open(tmp_path / "d.db")
        request = AiohttpRequest(read_timeout=0.5, connect_timeout=1.0)  # as the app sends
        bot = Bot("123:TEST", base_url=server.base_url, request=request)
        async with bot:
            outbox, users = OutboxRepository(db), UserRepository(db)
            sender = Sender(
                bot,
                outbox,
                users,
                {"test": _text},
                RateLimiter(per_second=200),
                backoff_base_s=0.05,
                rng=random.Random(1),
            )
            await sender.start()
            yield Rig(server, db, outbox, users, sender)
        await db.close()


def _items(chats: list[int], subject: str = "s") -> list[OutboxItem]:
    return [OutboxItem("test", f"{subject}:{i}", chat, {"n": i}) for i, chat in enumerate(chats)]


async def test_sends_each_once_in_the_recipients_language(rig: Rig) -> None:
    await rig.users.set_locale(2, "ar")
    chats = [*range(1, 41), 7, 7, 7]
    assert await rig.outbox.enqueue(_items(chats)) == len(chats)
    assert await rig.outbox.enqueue(_items(chats)) == 0  # the same rows again: ignored
    await rig.drain()
    assert await rig.outbox.counts() == {"sent": len(chats)}
    assert rig.server.violations == 0
    assert len(rig.texts(7)) == 4
    assert rig.texts(1)[0].startswith("This menu has expired.")
    assert not rig.texts(2)[0].startswith("This menu")  # rendered in Arabic at send time
    seven = [c.at for c in rig.server.calls_to("sendMessage") if c.chat_id == 7]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(seven))
    row = await rig.db.conn.execute_fetchall("SELECT message_id FROM outbox WHERE state = 'sent'")
    assert all(r[0] for r in row)


async def test_429_pauses_and_retries(rig: Rig) -> None:
    rig.server.fail_next("sendMessage", kind="429", count=2, retry_after=1)
    await rig.outbox.enqueue(_items([11, 12, 13]))
    await rig.drain()
    assert await rig.outbox.counts() == {"sent": 3}
    assert sum(len(rig.texts(c)) for c in (11, 12, 13)) == 3  # exactly once each
    sends = rig.server.calls_to("sendMessage")
    ok = [c.at for c in sends if c.status == 200]
    limited = [c.at for c in sends if c.status == 429]
    assert min(ok) - limited[-1] >= 0.95  # nothing went while paused


async def test_403_blocks_the_chat_until_they_write_again(rig: Rig) -> None:
    rig.server.block(21)
    await rig.outbox.enqueue(_items([21, 21, 22], "a"))
    await rig.drain()
    counts = await rig.outbox.counts()
    assert counts == {"sent": 1, "blocked": 2}
    assert len([c for c in rig.server.calls_to("sendMessage") if c.chat_id == 21]) == 1
    await rig.outbox.enqueue(_items([21], "b"))
    assert (await rig.outbox.counts())["blocked"] == 3  # known unreachable: not even tried
    rig.server.unblock(21)
    await rig.sender.chat_reachable(21)
    await rig.outbox.enqueue(_items([21], "c"))
    await rig.drain()
    assert len(rig.texts(21)) == 1


async def test_5xx_and_timeouts_retry_with_backoff_then_fail(rig: Rig) -> None:
    rig.server.fail_next("sendMessage", kind="500", count=1)
    rig.server.fail_next("sendMessage", kind="timeout", count=1)
    await rig.outbox.enqueue(_items([31], "x"))
    await rig.drain()
    assert await rig.outbox.counts() == {"sent": 1}
    rig.server.fail_next("sendMessage", kind="502", count=100, chat_id=32)
    await rig.outbox.enqueue(_items([32], "y"))
    await rig.drain(rounds=200)
    failed = await rig.db.conn.execute_fetchall(
        "SELECT state, attempts, error FROM outbox WHERE chat_id = 32"
    )
    assert failed[0][0] == "failed" and failed[0][1] == rig.sender.max_attempts


async def test_bad_request_obsolete_and_migrated_groups(rig: Rig) -> None:
    rig.server.fail_next("sendMessage", kind="400", count=1, chat_id=41)
    await rig.outbox.enqueue(
        [*_items([41], "bad"), OutboxItem("test", "gone", 42, {"gone": True, "n": 0})]
    )
    rig.server.fail_next("sendMessage", kind="migrate", chat_id=-4000, migrate_to_chat_id=-1004000)
    await rig.outbox.enqueue(_items([-4000], "group"))
    await rig.drain()
    rows = dict(await rig.db.conn.execute_fetchall("SELECT chat_id, state FROM outbox"))
    assert rows == {41: "failed", 42: "failed", -1004000: "sent"}
    assert len(rig.texts(-1004000)) == 1


async def test_rows_left_sending_are_recovered(rig: Rig) -> None:
    await rig.outbox.enqueue(_items([51, 52]))
    claimed = await rig.outbox.claim(rig.sender.now(), 10)
    assert len(claimed) == 2 and (await rig.outbox.counts()) == {"sending": 2}
    assert await rig.sender.start() == 2  # as after a crash
    await rig.drain()
    assert await rig.outbox.counts() == {"sent": 2}


async def test_a_storm_of_429s_with_blocked_chats_5xx_and_timeouts(rig: Rig) -> None:
    """400 messages while Telegram answers 429 again and again (and worse): each sent once."""
    import asyncio

    chats = list(range(1000, 1200))
    blocked = set(chats[::40])  # 5 people blocked the bot
    for chat in blocked:
        rig.server.block(chat)
    await rig.outbox.enqueue(_items(chats * 2, "storm"))
    rig.server.fail_next("sendMessage", kind="500", count=3)
    rig.server.fail_next("sendMessage", kind="timeout", count=1)

    async def storms() -> None:
        seen = 0
        for _wave in range(3):  # three waves of three 429s each, every 100 sends
            for _ in range(100):
                call = await rig.server.wait_for_call(
                    lambda c: c.method == "sendMessage", timeout=30, since=seen
                )
                calls = rig.server.calls
                seen = next(i for i in range(seen, len(calls)) if calls[i] is call) + 1
            rig.server.fail_next("sendMessage", kind="429", count=3, retry_after=1)

    storm = asyncio.create_task(storms())
    await rig.drain(rounds=400)
    await storm
    counts = await rig.outbox.counts()
    assert counts == {"sent": 2 * (len(chats) - len(blocked)), "blocked": 2 * len(blocked)}
    for chat in chats:
        assert len(rig.texts(chat)) == (0 if chat in blocked else 2), chat
    assert rig.server.violations == 0
    sends = rig.server.calls_to("sendMessage")
    limited = [c.at for c in sends if c.status == 429]
    ok = [c.at for c in sends if c.status == 200]
    assert len(limited) == 9
    for moment in limited:  # nothing went out while Telegram asked to wait
        assert not [t for t in ok if moment < t < moment + 0.95], moment
