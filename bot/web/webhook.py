"""Telegram's webhook: updates posted by Telegram, each handled once, acknowledged after.

A post without the secret header Telegram was given, or with another one, is refused (403)
and not read. A body that is not an update gets 400. An update is answered 200 only once the
application has handled it (``process_update`` awaited, not queued), so a crash before that
makes Telegram post it again. Telegram also posts again when an answer is slow or lost, so the
update_ids handled are kept (in memory, and in ``handled_updates`` for a day across restarts
and across the instances sharing the database, which each look there first): one seen before
is answered 200 at once and not handled again, and one still being handled here is answered
when that handling ends.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

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
        self._to_record: list[tuple[int, asyncio.Future[None]]] = []
        self._recorder: asyncio.Task[None] | None = None
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
            if await self.handled.contains(update_id):  # by another instance sharing the database
                handled = True
                self._remember(update_id)
                return 200
            app = self.app
            await app.update_processor.process_update(update, app.process_update(update))
            handled = True
            self._remember(update_id)
            await self._record(update_id)
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

    async def _record(self, update_id: int) -> None:
        """Wait until ``update_id`` is written as handled: the updates handled meanwhile are
        written together, in one transaction."""
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_record.append((update_id, written))
        if self._recorder is None:
            self._recorder = asyncio.create_task(self._write(), name="webhook-recorder")
        await asyncio.shield(written)

    async def _write(self) -> None:
        try:
            while self._to_record:
                await asyncio.sleep(RECORD_GATHER_S)
                batch, self._to_record = self._to_record, []
                try:
                    await self.handled.record([update_id for update_id, _ in batch], self.now())
                except Exception:  # handled all the same: answered 200, kept in memory
                    log.exception("could not record %d handled updates", len(batch))
                for _, written in batch:
                    if not written.done():
                        written.set_result(None)
                if time.monotonic() - self._purged_at > PURGE_EVERY_S:
                    try:
                        await self._purge()
                    except Exception:
                        log.exception("could not forget old handled updates")
        finally:
            self._recorder = None

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


def _looks_like_update(data: Any) -> bool:
    """A JSON object with an integer update_id and at least one other field."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    return isinstance(update_id, int) and not isinstance(update_id, bool) and len(data) > 1
