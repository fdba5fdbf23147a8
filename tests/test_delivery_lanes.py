"""Priority lanes, several messages in flight, and each chat's gap kept across a restart."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Bot

from bot.delivery.outbox import RateLimiter, Sender
from bot.delivery.transport import AiohttpRequest
from bot.views.common import View
from storage.db import Database
from storage.outbox import OutboxItem, OutboxRepository, OutboxRow
from storage.users import UserRepository
from tests.fakeapi import FakeBotAPI
from tests.helpers import eventually, sent

KINDS = ("reminder", "change", "concern", "notice", "digest", "weekly", "campaign")


async def _text(row: OutboxRow) -> View | None:
    return View(f"{row.kind} {row.subject}")


@dataclass
class Rig:
    server: FakeBotAPI
    db: Database
    outbox: OutboxRepository
    bot: Bot

    def sender(self, per_second: float = 200, **kwargs: object) -> Sender:
        return Sender(
            self.bot,
            self.outbox,
            UserRepository(self.db),
            dict.fromkeys(KINDS, _text),
            RateLimiter(per_second=per_second),
            rng=random.Random(1),
            **kwargs,  # type: ignore[arg-type]
        )

    async def drain(self, sender: Sender) -> None:
        while await sender.run_once():
            pass
        assert await self.outbox.counts() == {"sent": sum((await self.outbox.counts()).values())}

    def sent(self) -> list[str]:
        """The kinds of the messages sent, in the order Telegram received them."""
        return [str(c.params["text"]).split()[0] for c in self.server.calls_to("sendMessage")]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with FakeBotAPI() as server:
        server.enforce_limits(per_second_total=200, per_chat_per_second=1, per_group_per_minute=20)
        db = await Database.open(tmp_path / "d.db")
        async with Bot("123:TEST", base_url=server.base_url, request=AiohttpRequest()) as bot:
            yield Rig(server, db, OutboxRepository(db), bot)
        await db.close()


def _items(kind: str, chats: Iterable[int]) -> list[OutboxItem]:
    return [OutboxItem(kind, f"{kind}:{chat}", chat) for chat in chats]


async def test_time_critical_first_then_digests_then_campaign_calls(rig: Rig) -> None:
    # Queued in the worst order: the call first, then the Monday digests, then a reminder,
    # a cancellation, a safeguarding concern and a notice to an admin.
    await rig.outbox.enqueue(_items("campaign", range(1, 301)))
    await rig.outbox.enqueue(_items("digest", range(301, 351)) + _items("weekly", [-5]))
    await rig.outbox.enqueue(
        _items("reminder", [401]) + _items("change", [402]) + _items("concern", [403])
    )
    await rig.outbox.enqueue(_items("notice", [404]))
    await rig.drain(rig.sender())
    sent = rig.sent()
    assert len(sent) == 355
    assert set(sent[:4]) == {"reminder", "change", "concern", "notice"}
    assert set(sent[4:55]) == {"digest", "weekly"}
    assert set(sent[55:]) == {"campaign"}
    assert rig.server.violations == 0


async def test_bulk_still_moves_while_reminders_keep_coming(rig: Rig) -> None:
    await rig.outbox.enqueue(_items("campaign", range(1, 201)))
    sender = rig.sender(per_second=100)
    task = asyncio.create_task(sender.run(idle_s=0.05))
    try:
        for chat in range(1001, 1021):  # reminders keep coming, each taken first...
            await rig.outbox.enqueue(_items("reminder", [chat]))
            sender.wake()
            await sent(rig.server, chat, "reminder")
            calls = rig.sent().count("campaign")
            # ... and campaign calls still go out between them.
            await eventually(lambda n=calls: rig.sent().count("campaign") > n, 6.0)
    finally:
        sender.stop()
        await task
    assert rig.server.violations == 0


async def test_several_in_flight_keep_every_limit(rig: Rig) -> None:
    rig.server.round_trip_s = 0.1
    # Thirty people, five messages each to three of them, and two group chats.
    chats = [*range(1, 31), *[7, 8, 9] * 4, *[-100, -200] * 3]
    await rig.outbox.enqueue(OutboxItem("notice", f"n:{i}", chat) for i, chat in enumerate(chats))
    await rig.drain(rig.sender(per_second=60))
    assert rig.server.violations == 0, rig.server.violation_log[:3]
    assert 1 < rig.server.in_flight_peak <= 8  # several at once, never more than allowed
    assert len(rig.server.calls_to("sendMessage")) == len(chats)  # each once


async def test_a_429_pauses_the_other_messages_too(rig: Rig) -> None:
    rig.server.round_trip_s = 0.05
    await rig.outbox.enqueue(_items("notice", range(1, 41)))
    rig.server.fail_next("sendMessage", kind="429", retry_after=1, chat_id=5)
    sender = rig.sender(per_second=100)
    await rig.drain(sender)
    calls = rig.server.calls_to("sendMessage")
    refused = next(c.at for c in calls if c.status == 429)
    after = sorted(c.at for c in calls if c.at > refused)
    # Those already on their way when the 429 came may still arrive; then nothing for 1 s.
    later = [t for t in after[8:] if t - refused < 1.0]
    assert later == []
    assert len({c.chat_id for c in calls if c.status == 200}) == 40


async def _crashed_after_sending(rig: Rig, chats: list[int]) -> None:
    """A sender sent to ``chats`` and was killed before storing that one of them was sent:
    the database as kill -9 leaves it."""
    await rig.outbox.enqueue(_items("reminder", chats))
    await rig.drain(rig.sender())
    async with rig.db.conn.execute(
        "UPDATE outbox SET state = 'sending' WHERE chat_id = ?", (chats[0],)
    ):
        pass


async def test_restarted_sender_keeps_each_chats_gap(rig: Rig) -> None:
    """Issue 22 item 13: the interrupted message, and the next one to a person who was just
    sent one, wait for the 1 s gap after a restart."""
    await _crashed_after_sending(rig, [1, 2, 3])
    # Another message for someone who got one just before the restart.
    await rig.outbox.enqueue(_items("change", [2, -100]))
    restarted = rig.sender()
    assert await restarted.start() == 1
    await rig.drain(restarted)
    assert [len(rig.server.messages(chat)) for chat in (1, 2, 3)] == [2, 2, 1]
    assert rig.server.violations == 0, rig.server.violation_log


async def test_restarted_sender_keeps_a_groups_minute(rig: Rig) -> None:
    # Twenty posts to one group chat: its minute is full when the sender restarts.
    await rig.outbox.enqueue(OutboxItem("weekly", f"w:{i}", -100) for i in range(20))
    await rig.drain(rig.sender())
    restarted = rig.sender()
    await restarted.start()
    assert restarted.limiter.ready_at(-100) > restarted.limiter.clock() + 30
    assert restarted.limiter.ready_at(-200) <= restarted.limiter.clock()
