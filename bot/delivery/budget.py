"""One send budget for the whole bot: Telegram counts its limits per bot, not per process.

Every message a reply sends (``PatientReplies``) and every outbox row the sender sends takes a
slot of one budget: at most 30 messages a second in all (evenly spaced), 1 a second to a
person, 20 a minute to a group, and a 429 met by anyone pauses everyone. Replies come first
(a person is waiting): a reply takes the first slot its chat may have, however far ahead; the
outbox sender takes one slot at a time and only a few slots ahead (``HORIZON_SLOTS``), so a
reply waits at most about one slot behind it, and bulk gets what replies leave. A reply to a
chat that had a message less than a second ago waits out the rest of that second: a short,
honest delay instead of a broken limit.

* ``LocalBudget`` (SQLite: one instance): the budget is the sender's own ``RateLimiter``,
  shared in the process; a reply waits for its chat, then for the next slot, and the sender
  lets a waiting reply have it.
* ``SharedBudget`` (PostgreSQL: any number of instances): the slots are rows
  (storage.budget, migration 0022): one round trip a message takes its slot on one grid of the
  database server's clock, under an advisory lock, and a second one after Telegram's answer
  sets the person's next moment (so a message answered late still keeps its gap). The outbox
  sender keeps its own limiter too, for what it knows first (its messages in flight, a group's
  minute), and takes a shared slot for each message.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from bot.delivery.outbox import RateLimiter, SendBudget
from storage.budget import SendBudgetRepository, Slot
from storage.db import Database

__all__ = ["LocalBudget", "SendBudget", "SharedBudget", "budget_for", "sender_limits"]
log = logging.getLogger(__name__)
# The outbox sender takes a shared slot at most this many slots ahead (a reply, any distance)
HORIZON_SLOTS = 3
# How often a reply waiting for a chat whose message is still in flight looks again
POLL_S = 0.05


class LocalBudget(SendBudget):
    """The budget of one process: the outbox sender's ``RateLimiter``, shared with replies."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def reply(self, chat_id: int) -> None:
        limiter = self.limiter
        # The chat's own gap first (a message still in flight: its answer); meanwhile this
        # reply does not hold the sender back.
        await self._until(lambda: limiter.chat_ready_at(chat_id))
        limiter.waiting_replies += 1  # the sender lets the next slot go to this reply
        try:
            await self._until(lambda: limiter.ready_at(chat_id))
        finally:
            limiter.waiting_replies -= 1
        limiter.record(chat_id)

    async def _until(self, moment: Callable[[], float]) -> None:
        """Wait until the clock reaches ``moment()`` (looked at again as it may move)."""
        while True:
            wait = moment() - self.limiter.clock()
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, POLL_S))

    async def landed(self, chat_id: int) -> None:
        self.limiter.landed(chat_id)

    async def pause(self, seconds: float) -> None:
        self.limiter.pause(seconds)


class SharedBudget(SendBudget):
    """The budget of every instance on one PostgreSQL database (storage.budget)."""

    def __init__(
        self,
        repo: SendBudgetRepository,
        per_second: float = 30.0,
        private_interval_s: float = 1.0,
        group_per_minute: int = 20,
    ) -> None:
        self.repo = repo
        # RateLimiter's margins (5% on a person's gap, 1% on a group's minute), but 6% on the
        # rate, not 3%: a slot is decided in one process and its message leaves from another's
        # event loop, which may wake late (tens of ms on a loaded machine); any second still
        # holds at most 30 while a message is less than 60 ms late. Every instance must use
        # the same rate (one grid).
        self.spacing = 1.06 / per_second
        self.gap = private_interval_s * 1.05
        self.group_per_minute = group_per_minute
        self.window = 60.0 * 1.01
        self.horizon = HORIZON_SLOTS * self.spacing
        self._paused_until = 0.0  # a 429 this instance met (time.monotonic)

    async def take(self, chat_id: int, *, bulk: bool) -> Slot:
        """A slot for a message to ``chat_id``; bulk only within the horizon."""
        return await self.repo.take(
            chat_id,
            bulk=bulk,
            spacing_s=self.spacing,
            gap_s=self.gap,
            per_window=self.group_per_minute,
            window_s=self.window,
            horizon_s=self.horizon,
        )

    def paused_for(self) -> float:
        """Seconds left of a 429's pause this instance met (others' are in the slots)."""
        return max(0.0, self._paused_until - time.monotonic())

    async def reply(self, chat_id: int) -> None:
        while True:
            try:
                slot = await self.take(chat_id, bulk=False)
            except Exception:  # the database is away: the reply is not lost for it
                log.exception("no slot from the send budget: the reply goes without one")
                return
            await asyncio.sleep(max(0.0, slot.wait))
            if (paused := self.paused_for()) <= 0:
                return
            await asyncio.sleep(paused)  # a 429 came meanwhile: a new slot after it

    async def landed(self, chat_id: int) -> None:
        if chat_id <= 0:
            return  # a group's minute counts its slots
        try:
            await self.repo.landed(chat_id, self.gap)
        except Exception:
            log.exception("could not record a message's answer in the send budget")

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        try:
            await self.repo.pause(seconds)
        except Exception:
            log.exception("could not share a 429's pause through the send budget")


def budget_for(db: Database, per_second: float, chat_gap_s: float = 1.0) -> SendBudget:
    """The bot's one budget on this database's engine: shared through PostgreSQL, else kept
    in this process."""
    if db.engine == "postgresql":
        return SharedBudget(SendBudgetRepository(db), per_second, private_interval_s=chat_gap_s)
    return LocalBudget(RateLimiter(per_second=per_second, private_interval_s=chat_gap_s))


def sender_limits(budget: SendBudget) -> tuple[RateLimiter, SharedBudget | None]:
    """The outbox sender's limiter, and the shared budget it also takes slots of. In one
    process it is the budget's own limiter; with a shared budget, a limiter without a rate of
    its own (the shared grid spaces every message; two grids would each cost a slot) keeping
    its chats' gaps and its 429s."""
    if isinstance(budget, SharedBudget):
        return RateLimiter(per_second=math.inf), budget
    assert isinstance(budget, LocalBudget)
    return budget.limiter, None
