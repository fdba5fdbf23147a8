"""One delivery path for every message the bot sends on its own initiative.

Jobs put rows in the durable outbox (storage.outbox); one sender task claims due rows, renders
each at send time in its recipient's language and sends it within Telegram's limits:

* at most ``per_second`` messages a second overall (evenly spaced, never a burst), at most one
  a second to a private chat and 20 a minute to a group chat (the Bot FAQ's figures);
* 429 pauses all sending for ``retry_after`` and retries the row; 403 marks the chat
  unreachable and blocks its pending rows; a migrated group's rows follow it; 5xx and
  time-outs retry with exponential backoff and jitter up to ``max_attempts``, then fail; any
  other 400 fails the row at once. Nothing is retried forever; nothing is dropped silently.
* Rows are taken by priority lane (storage.outbox.LANES): time-critical messages (reminders,
  changes, safeguarding concerns, notices) before digests and weekly posts, and those before
  campaign calls; bulk gets whatever the limits leave.
* Up to ``in_flight`` messages wait for Telegram's answer at once, so a slow round trip still
  fills the limit (the limits are kept when a message leaves, not when its answer comes). A
  crash (even kill -9) sends at most those messages twice: rows left 'sending' return to
  'pending' on start-up, and the restarted sender keeps each chat's gap from the sends
  stored before the crash.

Replies to a person (handlers answer directly) get ``PatientReplies``: each of their messages
takes a slot of the same budget as the outbox (bot.delivery.budget: this sender's limiter in one
process; shared through the database by every instance on PostgreSQL, where this sender takes a
shared slot for each row too), and a short 429 is waited out and the reply sent once more,
instead of being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random
import time
import warnings
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, Protocol

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.transport import DEFAULTS
from bot.i18n import DEFAULT_LOCALE, use_locale
from bot.views.common import View
from bot.views.keyboard import ptb_markup
from bot.web.metrics import Metrics
from storage.budget import Slot
from storage.db import utcnow
from storage.models import User
from storage.outbox import OutboxRepository, OutboxRow
from storage.users import UserRepository

log = logging.getLogger(__name__)

Renderer = Callable[[OutboxRow], Awaitable[View | None]]
# How far back a starting sender looks for its predecessor's sends (a group's minute, and more)
RECALL = timedelta(seconds=62)
# Messages awaiting Telegram's answer at once: 30/s at a 100 ms round trip needs 3; 8 covers
# a round trip of 250 ms. A kill -9 may send each of them twice.
IN_FLIGHT = 8
# Before a message leaves while others are in flight, this long for the answers already on
# their way back to be heard (a 429 among them pauses it); within a slot's quarter at 30/s, so
# the even spacing is kept.
HEAR_S = 0.002


# Calls that answer a person, counted as replies in the metrics.
REPLY_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendVenue",
        "sendLocation",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
    }
)

# Calls that put a message in a chat: each takes a slot of the send budget (Telegram's limits
# count messages; a chat action, an edit, a button's answer go at once)
MESSAGES = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVenue",
        "sendLocation",
        "sendMediaGroup",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendInvoice",
        "copyMessage",
        "forwardMessage",
    }
)

# True while the sender sends an outbox row: it handles a 429 itself (pausing everything)
_SENDING_ROW: ContextVar[bool] = ContextVar("sending_outbox_row", default=False)
# While a row to a person is rendered: that person, as the sender read them for the row's
# language (a renderer needing more of them, a digest's area, does not read them again)
RECIPIENT: ContextVar[User | None] = ContextVar("outbox_recipient", default=None)


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks to wait, in seconds."""
    with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta
        warnings.simplefilter("ignore")
        wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class SendBudget(ABC):
    """The bot's one send budget (its kinds: bot.delivery.budget), as a reply uses it around
    each message it sends: ``reply`` before (returns when the message may go, its slot taken),
    ``landed`` after Telegram's answer (or error)."""

    @abstractmethod
    async def reply(self, chat_id: int) -> None:
        """Wait for a slot for a message to ``chat_id``, and take it."""

    @abstractmethod
    async def landed(self, chat_id: int) -> None:
        """The message to ``chat_id`` has its answer: the chat's gap counts from now."""

    @abstractmethod
    async def pause(self, seconds: float) -> None:
        """A 429: no message goes, from anywhere, for ``seconds``."""


class SharedSlots(Protocol):
    """A budget shared with other instances (bot.delivery.budget.SharedBudget), as the
    outbox sender uses it: a slot for each row, bulk only within ``horizon`` seconds."""

    spacing: float
    horizon: float

    async def take(self, chat_id: int, *, bulk: bool) -> Slot: ...

    async def landed(self, chat_id: int) -> None: ...

    async def pause(self, seconds: float) -> None: ...


class PatientReplies(BaseRateLimiter[None]):
    """The application's requests. Each message a reply sends takes its slot of the bot's one
    send budget (``budget``, bot.delivery.budget: shared with the outbox sender, and on
    PostgreSQL with every instance) before it goes, so replies and the outbox together keep
    Telegram's limits; a reply to a chat that had a message less than a second ago waits out
    the rest of that second. A 429 pauses the whole budget; one asking to wait at most
    ``max_wait_s`` (a person pressing buttons faster than Telegram lets one chat receive) is
    waited out and the request sent once more. Longer waits are raised, and so is any 429 the
    outbox sender meets: it pauses all its sending itself. Other calls (edits, answers to a
    button) go at once."""

    def __init__(self, max_wait_s: float = 5.0) -> None:
        self.max_wait_s = max_wait_s
        self.metrics: Metrics | None = None  # the running bot's, set when its services start
        self.budget: SendBudget | None = None  # likewise; None: replies go out at once

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
        sending_row = _SENDING_ROW.get()
        chat_id = data.get("chat_id")
        budgeted = (
            self.budget is not None
            and not sending_row  # the sender took the row's slot itself
            and endpoint in MESSAGES
            and isinstance(chat_id, int)
        )
        try:
            result = await self._within_budget(
                callback, args, kwargs, chat_id if budgeted else None
            )
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            if sending_row:
                raise
            if self.budget is not None:  # Telegram's flood control is the bot's: all wait
                await self.budget.pause(seconds)
            if self.metrics is not None:
                self.metrics.pause("reply", seconds)
            if seconds > self.max_wait_s:
                raise
            log.info("429 from Telegram on %s: sending again in %.0f s", endpoint, seconds)
        else:
            self._count(endpoint)
            return result
        if not budgeted:  # a message's next slot comes after the pause
            await asyncio.sleep(seconds)
        result = await self._within_budget(callback, args, kwargs, chat_id if budgeted else None)
        self._count(endpoint)
        return result

    async def _within_budget(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        chat_id: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """The call, in a slot of the budget when it sends a message to ``chat_id``."""
        if chat_id is None or self.budget is None:
            return await callback(*args, **kwargs)
        await self.budget.reply(chat_id)
        try:
            return await callback(*args, **kwargs)
        finally:
            await self.budget.landed(chat_id)

    def _count(self, endpoint: str) -> None:
        """A reply went out (an outbox row is counted by the sender)."""
        if self.metrics is not None and not _SENDING_ROW.get() and endpoint in REPLY_METHODS:
            self.metrics.replies.labels(endpoint).inc()


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
        # Replies (``LocalBudget``) whose chat may receive, waiting for the next slot: the
        # sender lets them have it (a person is waiting; bulk gets what replies leave).
        self.waiting_replies = 0

    def recall(self, recent: Mapping[int, tuple[datetime | None, int]], wall_now: datetime) -> None:
        """Sends made before a restart (``OutboxRepository.recent_chats``): each chat keeps
        its gap from its latest one. A stored time is to the second, so the send may have
        been up to a second later; a row left in flight may have gone just now."""
        clock = self.clock()
        for chat_id, (latest, count) in recent.items():
            ago = 0.0 if latest is None else (wall_now - latest).total_seconds() - 1.0
            at = clock - max(0.0, ago)
            if chat_id > 0:
                self._next_chat[chat_id] = max(
                    self._next_chat.get(chat_id, 0.0), at + self.private_interval
                )
            else:
                sends = self._group_sends.setdefault(chat_id, deque())
                sends.extend([at] * count)
                self._group_sends[chat_id] = deque(sorted(sends))

    def landed(self, chat_id: int) -> None:
        """Telegram answered the message to ``chat_id``: the next may go an interval later
        (the answer comes after the message arrived, so the gap holds where it is counted)."""
        if chat_id > 0:
            self._next_chat[chat_id] = self.clock() + self.private_interval

    def hold(self, chat_id: int, until: float) -> None:
        """``chat_id`` may receive nothing before ``until`` (the shared budget said so: another
        instance's reply to it, or a group's minute)."""
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)

    def pause(self, seconds: float) -> None:
        """Stop all sending for ``seconds`` (a 429)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def ready_at(self, chat_id: int) -> float:
        """The earliest moment a message to ``chat_id`` may go."""
        return max(self.next_slot(), self.chat_ready_at(chat_id))

    def next_slot(self) -> float:
        """The earliest moment any message may go (the overall rate, a 429's pause)."""
        return max(self._next_any, self._paused_until)

    def chat_ready_at(self, chat_id: int) -> float:
        """The earliest moment ``chat_id``'s own limit lets a message go to it."""
        at = self._next_chat.get(chat_id, 0.0)
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
            # Until its answer comes (``landed``): a later message could overtake this one
            # on the way and arrive less than the interval after it.
            self._next_chat[chat_id] = math.inf
            if len(self._next_chat) > 50_000:  # forget chats whose interval has long passed
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        else:
            sends = self._group_sends.setdefault(chat_id, deque())
            sends.append(now)
            while sends and sends[0] < now - 60.0 * 1.01:
                sends.popleft()


class Sender:
    """Claims due outbox rows by lane and sends them within the limits, up to ``in_flight``
    awaiting Telegram's answer at once."""

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
        in_flight: int = IN_FLIGHT,
        metrics: Metrics | None = None,
        budget: SharedSlots | None = None,
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
        self.metrics = metrics
        # Several instances (PostgreSQL): each message also takes a slot of the budget they
        # share with every instance's replies (bot.delivery.budget); ``limiter`` then keeps
        # what this sender knows first (its messages in flight, its 429s).
        self.budget = budget
        self.unreachable: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._slots = asyncio.Semaphore(in_flight)
        self._fresh = False
        self._flying: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Recover rows a crash left 'sending' (keeping each chat's gap from the sends made
        before it); load unreachable chats. Returns rows recovered."""
        self.unreachable = await self.outbox.unreachable_chats()
        now = self.now()
        self.limiter.recall(await self.outbox.recent_chats(now - RECALL), now)
        recovered = await self.outbox.recover()
        if recovered:
            log.info("recovered %d outbox rows left in flight", recovered)
        return recovered

    def wake(self) -> None:
        """New rows are due: stop waiting, and claim again before the next message (a new
        time-critical row goes before the bulk already claimed)."""
        self._fresh = True
        self._wake.set()

    def stop(self) -> None:
        """Finish the messages in flight, then stop."""
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
        """Claim the due rows and send them; returns how many were handled (0: nothing was
        due). Messages may still be in flight when it returns, unless nothing was due (see
        ``drain``). New rows (``wake``) give back what is not sent yet, to be claimed again
        by lane."""
        self._fresh = False
        rows = deque(await self.outbox.claim(self.now(), self.batch))
        rendered: dict[int, View] = {}  # rows whose shared slot went by, ready for the next
        if not rows:
            await self.drain()
            return 0
        handled = 0
        while rows:
            if self._stopping or self._fresh:  # stop, or claim again by lane
                await self.outbox.release(r.id for r in rows)
                handled = max(handled, 1)  # due rows are left: call again
                break
            # The first row (by lane) whose chat may receive at the next slot; else wait for
            # the earliest. It is rendered before that slot comes, not after: the time that
            # takes (a digest's search, the database) is not added to every interval.
            limiter = self.limiter
            clock = limiter.clock()
            slot = max(clock, limiter.next_slot())
            row = next((r for r in rows if limiter.chat_ready_at(r.chat_id) <= slot), None)
            if row is None:
                earliest = min(limiter.ready_at(r.chat_id) for r in rows)
                if earliest == math.inf:  # every chat left waits for its message's answer
                    await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)
                    await asyncio.sleep(0)  # its landing is recorded
                else:
                    await asyncio.sleep(max(0.0, earliest - clock))
                continue
            rows.remove(row)
            handled += 1
            view = rendered.pop(row.id, None)
            if view is None:
                view = await self._prepare(row)
            if view is None:
                continue
            await self._slots.acquire()
            # Rendering and waiting for a slot took time, and a 429 may have paused all.
            heard = not self._flying
            while True:
                wait = self.limiter.ready_at(row.chat_id) - self.limiter.clock()
                if wait <= 0 and self.limiter.waiting_replies:  # a reply takes this slot
                    wait = self.limiter.interval / 4
                if wait <= 0 and heard:
                    break
                # With messages in flight, answers already on their way back are heard
                # first: a 429 that came for one of them pauses this one too.
                await asyncio.sleep(max(wait, 0.0) + (0.0 if heard else HEAR_S))
                heard = True
            if not await self._shared_slot(row.chat_id):
                self._slots.release()
                rendered[row.id] = view  # sent in a later slot, as rendered now
                rows.appendleft(row)  # chosen again when its chat may receive
                continue
            self.limiter.record(row.chat_id)
            task = asyncio.create_task(self._send(row, view))
            self._flying.add(task)
            task.add_done_callback(functools.partial(self._landed, row.chat_id))
        if self._stopping:
            await self.drain()
        return handled

    async def _shared_slot(self, chat_id: int) -> bool:
        """With a shared budget, the message's slot in it: True once taken and come. False
        when it was not to be had: the chat waits (another instance's reply to it, a group's
        minute), all wait (a 429 another instance met), or replies took the slots within
        reach; or when it went by before the message could go (a 429 heard meanwhile, this
        process held up). The row is then chosen again later."""
        budget = self.budget
        if budget is None:
            return True
        limiter = self.limiter
        try:
            slot = await budget.take(chat_id, bulk=True)
        except Exception:  # the database is away: nothing goes without a slot
            log.exception("no slot from the send budget")
            limiter.pause(1.0)
            return False
        if not slot.taken:
            if slot.pause_wait > 0:
                limiter.pause(slot.pause_wait)
            elif slot.chat_wait > budget.horizon:
                limiter.hold(chat_id, limiter.clock() + slot.chat_wait)
            else:  # replies took the next slots
                await asyncio.sleep(max(0.0, slot.wait - budget.horizon))
            return False
        due = limiter.clock() + slot.wait
        await asyncio.sleep(max(0.0, slot.wait))
        # Late by half a slot or more (this process held up), it could land among the next
        # slots' messages (the grid's margin is for late wakes elsewhere). A 429 heard
        # meanwhile pauses it.
        return limiter.clock() < due + budget.spacing / 2 and limiter.ready_at(chat_id) <= due

    def _landed(self, chat_id: int, task: asyncio.Task[None]) -> None:
        self.limiter.landed(chat_id)
        self._flying.discard(task)
        self._slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("sending an outbox row failed", exc_info=exc)

    async def drain(self) -> None:
        """Wait until every message in flight has its answer recorded."""
        while self._flying:
            await asyncio.gather(*self._flying, return_exceptions=True)

    async def _render(self, row: OutboxRow) -> View | None:
        renderer = self.renderers.get(row.kind)
        if renderer is None:
            raise LookupError(f"no renderer for {row.kind!r}")
        user = await self.users.get(row.chat_id) if row.chat_id > 0 else None
        token = RECIPIENT.set(user)
        try:
            with use_locale((user.locale if user else None) or DEFAULT_LOCALE):
                return await renderer(row)
        finally:
            RECIPIENT.reset(token)

    def _count(self, outcome: str) -> None:
        """What became of a row (sent, failed, unreachable, retried, held), for /metrics."""
        if self.metrics is not None:
            self.metrics.message(outcome)

    async def _prepare(self, row: OutboxRow) -> View | None:
        """The row's message, or None when it is not to be sent (its row updated)."""
        now = self.now()
        if row.chat_id in self.unreachable:
            await self.outbox.set_unreachable(row.chat_id, "unreachable", now)
            self._count("unreachable")
            return None
        try:
            view = await self._render(row)
        except Held as held:
            await self.outbox.hold(row.id, str(held) or "held", now)
            self._count("held")
            return None
        except Exception as exc:  # a broken renderer fails its row, not the sender
            log.exception("rendering outbox row %d (%s) failed", row.id, row.kind)
            await self.outbox.fail(row.id, f"render: {type(exc).__name__}", now)
            self._count("failed")
            return None
        if view is None:  # the subject is gone (activity cancelled...): nothing to say
            await self.outbox.fail(row.id, "obsolete", now)
            self._count("failed")
        return view

    async def _send(self, row: OutboxRow, view: View) -> None:
        """Send one rendered row (its slot already taken) and record what Telegram said."""
        try:
            self._count(await self._outcome(row, view))
        finally:
            if self.budget is not None:  # the person's next message: a gap from now
                await self.budget.landed(row.chat_id)

    async def _outcome(self, row: OutboxRow, view: View) -> str:
        """Send one rendered row; returns what became of it (sent, failed, unreachable,
        retried)."""
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
            if self.budget is not None:  # every instance's replies too
                await self.budget.pause(seconds)
            log.warning("429 from Telegram: pausing all sending for %.0f s", seconds)
            if self.metrics is not None:
                self.metrics.pause("outbox", seconds)
            return await self._again(row, seconds, f"429 retry after {seconds:.0f}s")
        except Forbidden as exc:
            self.unreachable.add(row.chat_id)
            await self.outbox.set_unreachable(row.chat_id, exc.message, self.now())
            return "unreachable"
        except ChatMigrated as exc:
            await self.outbox.migrate_chat(row.chat_id, exc.new_chat_id, self.now())
            await self.outbox.retry(row.id, self.now(), "migrated", self.now(), count=False)
            return "retried"
        except BadRequest as exc:
            await self.outbox.fail(row.id, exc.message, self.now())
            return "failed"
        except NetworkError as exc:  # 5xx, time-outs, connection errors
            delay = min(self.backoff_cap_s, self.backoff_base_s * 2**row.attempts)
            return await self._again(row, delay * (0.5 + self.rng.random() / 2), exc.message)
        finally:
            _SENDING_ROW.reset(sending)
        await self.outbox.sent(row.id, message.message_id, self.now())
        return "sent"

    async def _again(self, row: OutboxRow, delay_s: float, error: str) -> str:
        now = self.now()
        if row.attempts + 1 >= self.max_attempts:
            log.warning("outbox row %d failed after %d attempts", row.id, row.attempts + 1)
            await self.outbox.fail(row.id, error, now)
            return "failed"
        await self.outbox.retry(row.id, now + timedelta(seconds=delay_s), error, now)
        return "retried"

    async def chat_reachable(self, chat_id: int) -> None:
        """The person wrote or unblocked the bot: their chat can be sent to again."""
        if chat_id in self.unreachable:
            self.unreachable.discard(chat_id)
            await self.outbox.set_reachable(chat_id, self.now())
