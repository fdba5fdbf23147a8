"""Prometheus metrics of one running bot, in its own registry (tests run several bots).

Counts and timings only: no chat id, user id, text or place is ever a label or a value.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    exposition,
    generate_latest,
)

CONTENT_TYPE = exposition.CONTENT_TYPE_LATEST
UPDATE_KINDS = ("message", "callback_query", "inline_query", "my_chat_member")
RATE_WINDOW_S = 10.0
LAG_EVERY_S = 0.5


class Metrics:
    """Every metric the bot exports; each part of the bot moves its own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "sanctuary_updates", "Updates handled, by kind", ["kind"], registry=registry
        )
        self.handler_errors = Counter(
            "sanctuary_handler_errors", "Errors raised while handling an update", registry=registry
        )
        self.replies = Counter(
            "sanctuary_replies",
            "Replies sent to a person directly by a handler, by Bot API method",
            ["method"],
            registry=registry,
        )
        self.outbox_rows = Gauge(
            "sanctuary_outbox_rows",
            "Outbox rows by kind and state (read when scraped)",
            ["kind", "state"],
            registry=registry,
        )
        self.messages = Counter(
            "sanctuary_messages",
            "Outbox messages by outcome: sent, failed, unreachable, retried, held",
            ["outcome"],
            registry=registry,
        )
        self.pauses = Counter(
            "sanctuary_flood_pauses",
            "429 answers from Telegram, by who met them: the outbox sender or a reply",
            ["source"],
            registry=registry,
        )
        self.pause_seconds = Counter(
            "sanctuary_flood_pause_seconds",
            "Seconds Telegram asked to wait in 429 answers",
            ["source"],
            registry=registry,
        )
        self.send_rate = Gauge(
            "sanctuary_send_rate",
            f"Outbox messages sent per second over the last {RATE_WINDOW_S:g} s",
            registry=registry,
        )
        self.send_rate.set_function(self._rate)
        self.search_seconds = Histogram(
            "sanctuary_search_seconds",
            "Time to search the directory for one page of results",
            buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25),
            registry=registry,
        )
        self.loop_lag = Histogram(
            "sanctuary_event_loop_lag_seconds",
            f"How late the event loop woke a task that slept {LAG_EVERY_S:g} s",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.db_seconds = Histogram(
            "sanctuary_db_statement_seconds",
            "Time for one database statement (waiting for another task's transaction excluded)",
            buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=registry,
        )
        for kind in (*UPDATE_KINDS, "other"):
            self.updates.labels(kind)  # present at 0 before the first update
        for outcome in ("sent", "failed", "unreachable"):
            self.messages.labels(outcome)
        for source in ("outbox", "reply"):
            self.pauses.labels(source)
            self.pause_seconds.labels(source)
        self._sends: deque[float] = deque()
        self._lag_task: asyncio.Task[None] | None = None

    def update(self, kind: str) -> None:
        """An update of ``kind`` was handled."""
        self.updates.labels(kind if kind in UPDATE_KINDS else "other").inc()

    def message(self, outcome: str) -> None:
        """The outbox sender finished with a row: sent, failed, unreachable, retried, held."""
        self.messages.labels(outcome).inc()
        if outcome == "sent":
            now = time.monotonic()
            self._sends.append(now)
            while self._sends and self._sends[0] < now - RATE_WINDOW_S:
                self._sends.popleft()

    def pause(self, source: str, seconds: float) -> None:
        """A 429 asked ``source`` (outbox or reply) to wait ``seconds``."""
        self.pauses.labels(source).inc()
        self.pause_seconds.labels(source).inc(seconds)

    def set_outbox(self, counts: dict[tuple[str, str], int]) -> None:
        """The outbox's rows by (kind, state), as just counted."""
        self.outbox_rows.clear()
        for (kind, state), count in counts.items():
            self.outbox_rows.labels(kind, state).set(count)

    def _rate(self) -> float:
        now = time.monotonic()
        return sum(1 for at in self._sends if at >= now - RATE_WINDOW_S) / RATE_WINDOW_S

    def text(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)

    def start(self) -> None:
        """Start measuring the event loop's lag."""
        if self._lag_task is None:
            self._lag_task = asyncio.create_task(self._watch_loop(), name="loop-lag")

    async def stop(self) -> None:
        """Stop measuring."""
        task, self._lag_task = self._lag_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(LAG_EVERY_S)
            self.loop_lag.observe(max(0.0, loop.time() - start - LAG_EVERY_S))
