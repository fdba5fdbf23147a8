"""One delivery path for every message the bot sends on its own initiative.

Jobs put rows in the durable outbox (storage.outbox); one sender task claims due rows, renders
each at send time in its recipient's language and sends it within Telegram's limits:

* at most ``per_second`` messages a second overall (evenly spaced, never a burst), at most one
  a second to a private chat and 20 a minute to a group chat (the Bot FAQ's figures);
* 429 pauses all sending for ``retry_after`` and retries the row; 403 marks the chat
  unreachable and blocks its pending rows; a migrated group's rows follow it; 5xx and
  time-outs retry with exponential backoff and jitter up to ``max_attempts``, then fail; any
  other 400 fails the row at once. Nothing is retried forever; nothing is dropped silently.
* One message is in flight at a time, so a crash (even kill -9) sends at most that one message
  twice: rows left 'sending' return to 'pending' on start-up.

Replies to a person (handlers answer directly) get ``PatientReplies``: a short 429 is waited
out and the reply sent once more, instead of being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.i18n import DEFAULT_LOCALE, use_locale
from bot.keyboard import ptb_markup
from bot.transport import DEFAULTS
from bot.views import View
from storage.db import utcnow
from storage.outbox import OutboxRepository, OutboxRow
from storage.users import UserRepository

log = logging.getLogger(__name__)

Renderer = Callable[[OutboxRow], Awaitable[View | None]]


# True while the sender sends an outbox row: it handles a 429 itself (pausing everything)
_SENDING_ROW: ContextVar[bool] = ContextVar("sending_outbox_row", default=False)


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks to wait, in seconds."""
    with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta
        warnings.simplefilter("ignore")
        wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class PatientReplies(BaseRateLimiter[None]):
    """The application's requests: one that meets a 429 asking to wait at most ``max_wait_s``
    (a person pressing buttons faster than Telegram lets one chat receive) waits and is sent
    once more. Longer waits are raised, and so is any 429 the outbox sender meets: it pauses
    all its sending itself. Nothing else is limited: replies go out at once."""

    def __init__(self, max_wait_s: float = 5.0) -> None:
        self.max_wait_s = max_wait_s

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            if _SENDING_ROW.get() or seconds > self.max_wait_s:
                raise
            log.info("429 from Telegram on %s: sending again in %.0f s", endpoint, seconds)
        await asyncio.sleep(seconds)
        return await callback(*args, **kwargs)


class Held(Exception):
    """Raised by a renderer: the row's subject is on hold (a paused call). The row is set
    aside unsent, to be put back when its subject carries on."""


class RateLimiter:
    """Telegram's limits as earliest-send times: nothing here sleeps, the sender does."""

    def __init__(
        self,
        per_second: float = 30.0,
        private_interval_s: float = 1.0,
        group_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # A 3% margin (5% for one chat) keeps every one-second window within the limit as
        # Telegram sees it, despite timer overshoot and the time a request takes to arrive.
        self.interval = 1.03 / per_second
        self.private_interval = private_interval_s * 1.05
        self.group_per_minute = group_per_minute
        self.clock = clock
        self._next_any = 0.0
        self._next_chat: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Stop all sending for ``seconds`` (a 429)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def ready_at(self, chat_id: int) -> float:
        """The earliest moment a message to ``chat_id`` may go."""
        at = max(self._next_any, self._paused_until, self._next_chat.get(chat_id, 0.0))
        sends = self._group_sends.get(chat_id)
        if chat_id < 0 and sends is not None and len(sends) >= self.group_per_minute:
            at = max(at, sends[0] + 60.0 * 1.01)
        return at

    def record(self, chat_id: int) -> None:
        """A message to ``chat_id`` is going now."""
        now = self.clock()
        # Keep to the grid of slots when only a little late (timer overshoot), so small delays
        # do not add up; a send is then at most a quarter slot late, which with the 3% margin
        # still never puts more than the limit in any one-second window.
        late = now - self._next_any
        base = self._next_any if 0 <= late < self.interval / 4 else now
        self._next_any = base + self.interval
        if chat_id > 0:
            self._next_chat[chat_id] = now + self.private_interval
            if len(self._next_chat) > 50_000:  # forget chats whose interval has long passed
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        else:
            sends = self._group_sends.setdefault(chat_id, deque())
            sends.append(now)
            while sends and sends[0] < now - 60.0 * 1.01:
                sends.popleft()


class Sender:
    """Claims due outbox rows and sends them one at a time within the limits."""

    def __init__(
        self,
        bot: Bot,
        outbox: OutboxRepository,
        users: UserRepository,
        renderers: Mapping[str, Renderer],
        limiter: RateLimiter | None = None,
        *,
        now: Callable[[], datetime] = utcnow,
        max_attempts: int = 6,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 900.0,
        batch: int = 100,
        rng: random.Random | None = None,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.users = users
        self.renderers = renderers
        self.limiter = limiter or RateLimiter()
        self.now = now
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.batch = batch
        self.rng = rng or random.Random()
        self.unreachable: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False

    async def start(self) -> int:
        """Recover rows a crash left 'sending'; load unreachable chats. Returns rows recovered."""
        self.unreachable = await self.outbox.unreachable_chats()
        recovered = await self.outbox.recover()
        if recovered:
            log.info("recovered %d outbox rows left in flight", recovered)
        return recovered

    def wake(self) -> None:
        """New rows are due: stop waiting."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the message in flight, then stop."""
        self._stopping = True
        self._wake.set()

    async def run(self, idle_s: float = 5.0) -> None:
        """Send until stopped, waiting for new or due rows in between."""
        while not self._stopping:
            if await self.run_once():
                continue
            due = await self.outbox.next_due()
            wait = idle_s
            if due is not None:
                wait = max(0.0, min(idle_s, (due - self.now()).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def run_once(self) -> int:
        """Claim the due rows and send them; returns how many were handled."""
        rows = deque(await self.outbox.claim(self.now(), self.batch))
        handled = 0
        while rows:
            if self._stopping:
                await self.outbox.release(r.id for r in rows)
                break
            # The first row whose chat may receive now; else wait for the earliest one.
            clock = self.limiter.clock()
            row = next((r for r in rows if self.limiter.ready_at(r.chat_id) <= clock), None)
            if row is None:
                earliest = min(self.limiter.ready_at(r.chat_id) for r in rows)
                await asyncio.sleep(max(0.0, earliest - clock))
                continue
            rows.remove(row)
            await self._deliver(row)
            handled += 1
        return handled

    async def _render(self, row: OutboxRow) -> View | None:
        renderer = self.renderers.get(row.kind)
        if renderer is None:
            raise LookupError(f"no renderer for {row.kind!r}")
        user = await self.users.get(row.chat_id) if row.chat_id > 0 else None
        with use_locale((user.locale if user else None) or DEFAULT_LOCALE):
            return await renderer(row)

    async def _deliver(self, row: OutboxRow) -> None:
        now = self.now()
        if row.chat_id in self.unreachable:
            await self.outbox.set_unreachable(row.chat_id, "unreachable", now)
            return
        try:
            view = await self._render(row)
        except Held as held:
            await self.outbox.hold(row.id, str(held) or "held", now)
            return
        except Exception as exc:  # a broken renderer fails its row, not the sender
            log.exception("rendering outbox row %d (%s) failed", row.id, row.kind)
            await self.outbox.fail(row.id, f"render: {type(exc).__name__}", now)
            return
        if view is None:  # the subject is gone (activity cancelled...): nothing to say
            await self.outbox.fail(row.id, "obsolete", now)
            return
        self.limiter.record(row.chat_id)
        sending = _SENDING_ROW.set(True)
        try:
            message = await self.bot.send_message(
                row.chat_id,
                view.text,
                parse_mode=DEFAULTS.parse_mode,  # as the application's bot: any Bot may send
                reply_markup=ptb_markup(view.markup),
                link_preview_options=DEFAULTS.link_preview_options,
            )
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            self.limiter.pause(seconds)
            log.warning("429 from Telegram: pausing all sending for %.0f s", seconds)
            await self._again(row, seconds, f"429 retry after {seconds:.0f}s")
        except Forbidden as exc:
            self.unreachable.add(row.chat_id)
            await self.outbox.set_unreachable(row.chat_id, exc.message, self.now())
        except ChatMigrated as exc:
            await self.outbox.migrate_chat(row.chat_id, exc.new_chat_id, self.now())
            await self.outbox.retry(row.id, self.now(), "migrated", self.now(), count=False)
        except BadRequest as exc:
            await self.outbox.fail(row.id, exc.message, self.now())
        except NetworkError as exc:  # 5xx, time-outs, connection errors
            delay = min(self.backoff_cap_s, self.backoff_base_s * 2**row.attempts)
            await self._again(row, delay * (0.5 + self.rng.random() / 2), exc.message)
        else:
            await self.outbox.sent(row.id, message.message_id, self.now())
        finally:
            _SENDING_ROW.reset(sending)

    async def _again(self, row: OutboxRow, delay_s: float, error: str) -> None:
        now = self.now()
        if row.attempts + 1 >= self.max_attempts:
            log.warning("outbox row %d failed after %d attempts", row.id, row.attempts + 1)
            await self.outbox.fail(row.id, error, now)
        else:
            await self.outbox.retry(row.id, now + timedelta(seconds=delay_s), error, now)

    async def chat_reachable(self, chat_id: int) -> None:
        """The person wrote or unblocked the bot: their chat can be sent to again."""
        if chat_id in self.unreachable:
            self.unreachable.discard(chat_id)
            await self.outbox.set_reachable(chat_id, self.now())
