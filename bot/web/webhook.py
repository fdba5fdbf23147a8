"""Telegram's webhook: updates posted by Telegram, each handled once, acknowledged after.

A post without the secret header Telegram was given, or with another one, is refused (403)
and not read. A body that is not an update gets 400. An update is answered 200 only once the
application has handled it (``process_update`` awaited, not queued), so a crash before that
makes Telegram post it again. Telegram also posts again when an answer is slow or lost, so the
update_ids handled are kept (in memory, and in ``handled_updates`` for a day across restarts
and across the instances sharing the database, which each look there first): one seen before
is answered 200 at once and not handled again, and one still being handled here is answered
when that handling ends.

A busy webhook takes many posts at once (Telegram keeps up to 40 connections open): the
update_ids arriving together are looked up in one statement, and those handled close together
are written in one, so that each post costs no trip of its own to the database's thread.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from aiohttp import web
from telegram import Update

from bot.context import App
from bot.web.health import Contact
from storage.updates import HandledUpdates

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
KEEP = timedelta(days=1)
PURGE_EVERY_S = 3600.0
# Before writing, the recorder waits this long for more updates to finish, so that a busy
# webhook writes a handful of update_ids a transaction rather than one (each write is a trip
# to the database's thread and a commit). Only the 200 waits: the reply has been sent.
RECORD_GATHER_S = 0.01
T = TypeVar("T")


class Gathered(Generic[T]):
    """update_ids asked about close together, answered by one call of ``answer`` for all:
    those asked in the same turn of the event loop as the first (or within the seconds
    ``gather_s()`` gives then) go together, and those asked while ``answer`` runs, in the next."""

    def __init__(
        self,
        answer: Callable[[list[int]], Awaitable[Callable[[int], T]]],
        name: str,
        gather_s: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._answer = answer
        self._name = name
        self._gather_s = gather_s
        self._waiting: list[tuple[int, asyncio.Future[T]]] = []
        self._task: asyncio.Task[None] | None = None

    async def ask(self, update_id: int) -> T:
        """The answer for ``update_id`` (given for the whole batch it went in with)."""
        answered: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((update_id, answered))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)
        return await answered  # cancelled: it is still in its batch, its answer goes unread

    async def _run(self) -> None:
        try:
            while self._waiting:
                if gather_s := self._gather_s():
                    await asyncio.sleep(gather_s)
                batch, self._waiting = self._waiting, []
                try:
                    answer = await self._answer([update_id for update_id, _ in batch])
                except Exception as exc:  # each post asking fails (500: Telegram posts again)
                    for _, answered in batch:
                        if not answered.done():
                            answered.set_exception(exc)
                    continue
                for update_id, answered in batch:
                    if not answered.done():
                        answered.set_result(answer(update_id))
        finally:
            self._task = None


class Webhook:
    """The webhook's request handler, and what it remembers of the updates it handled."""

    def __init__(
        self,
        app: App,
        secret: str,
        handled: HandledUpdates,
        contact: Contact,
        now: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.handled = handled
        self.contact = contact
        self.now = now
        self.closing = False  # shutting down: new updates are refused (503), Telegram retries
        self._secret = secret.encode()
        self._seen: OrderedDict[int, float] = OrderedDict()  # update_id -> when (monotonic)
        self._running: dict[int, asyncio.Future[bool]] = {}
        # by another instance sharing the database: the posts that arrived together, together
        self._handled_elsewhere = Gathered(self._look_up, "webhook-lookup")
        self._recorded = Gathered(self._write, "webhook-recorder", lambda: RECORD_GATHER_S)
        self._purged_at = 0.0
        self._idle = asyncio.Event()
        self._idle.set()

    async def load(self) -> None:
        """Remember the updates handled within the last day (before a restart too)."""
        await self._purge()
        now = time.monotonic()
        for update_id in await self.handled.since(self.now() - KEEP):
            self._seen[update_id] = now

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """POST from Telegram."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden")
        if self.closing:
            return web.Response(status=503, text="shutting down", headers={"Retry-After": "5"})
        try:
            data: Any = json.loads(await request.read())
        except (ValueError, RecursionError):  # not JSON (or not UTF-8, or nested too deep)
            data = None
        if not _looks_like_update(data):
            return web.Response(status=400, text="not an update")
        self.contact.touch()
        status = await self._once(data["update_id"], data)
        return web.Response(status=status, text="not an update" if status == 400 else None)

    async def _once(self, update_id: int, data: dict[str, Any]) -> int:
        """Handle the update unless it was handled before: 200 once it has been, 400 if it
        cannot be read. A repeat is answered without being read again."""
        if update_id in self._seen:
            return 200
        running = self._running.get(update_id)
        if running is not None:  # the same update again while it is being handled
            return 200 if await asyncio.shield(running) else 500
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception:  # not an Update python-telegram-bot can read
            return 400
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._running[update_id] = done
        self._idle.clear()
        handled = False
        try:
            if await self._handled_elsewhere.ask(update_id):
                handled = True
                self._remember(update_id)
                return 200
            app = self.app
            await app.update_processor.process_update(update, app.process_update(update))
            handled = True
            self._remember(update_id)
            await self._recorded.ask(update_id)
        finally:
            del self._running[update_id]
            done.set_result(handled)
            if not self._running:
                self._idle.set()
        return 200

    def _remember(self, update_id: int) -> None:
        now = time.monotonic()
        self._seen[update_id] = now
        limit = now - KEEP.total_seconds()
        while self._seen and next(iter(self._seen.values())) < limit:
            self._seen.popitem(last=False)

    async def _look_up(self, update_ids: list[int]) -> Callable[[int], bool]:
        """Which of ``update_ids`` were handled, in one statement."""
        return (await self.handled.among(update_ids)).__contains__

    async def _write(self, update_ids: list[int]) -> Callable[[int], None]:
        """Write ``update_ids`` as handled, in one statement: the updates handled within
        RECORD_GATHER_S of each other."""
        try:
            await self.handled.record(update_ids, self.now())
        except Exception:  # handled all the same: answered 200, kept in memory
            log.exception("could not record %d handled updates", len(update_ids))
        if time.monotonic() - self._purged_at > PURGE_EVERY_S:
            try:
                await self._purge()
            except Exception:
                log.exception("could not forget old handled updates")
        return _nothing

    async def _purge(self) -> None:
        self._purged_at = time.monotonic()
        await self.handled.purge(self.now() - KEEP)

    async def drain(self, limit_s: float) -> bool:
        """Refuse new updates; wait up to ``limit_s`` for those being handled. True if all
        were handled in time."""
        self.closing = True
        try:
            async with asyncio.timeout(limit_s):
                await self._idle.wait()  # each update's handling ends once it is recorded
        except TimeoutError:
            return False
        return True


def _nothing(update_id: int) -> None:
    """What a post waiting for its update_id to be written is told: that it was."""


def _looks_like_update(data: Any) -> bool:
    """A JSON object with an integer update_id and at least one other field."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    return isinstance(update_id, int) and not isinstance(update_id, bool) and len(data) > 1
