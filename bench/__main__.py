"""``make bench``: timing goals as ratios against baselines measured in the same run.

Prints one ``BENCH key=value ...`` line per figure. Never part of the test suite: these
machines are shared and noisy, so figures are compared with a baseline run alongside.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from bench import CAPACITY_CHAT_GAP_S, CAPACITY_SEND_RATE
from bot.search.directory import Directory
from bot.views.formatting import KM_PER_MILE
from storage.models import Activity, Group

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
# Population centres the synthetic activities cluster around (lat, lon).
CITIES = [
    (51.507, -0.128), (52.486, -1.890), (53.481, -2.242), (53.800, -1.549), (55.864, -4.252),
    (53.408, -2.992), (53.383, -1.465), (51.455, -2.588), (55.953, -3.189), (51.481, -3.179),
    (54.597, -5.930), (52.954, -1.158), (52.637, -1.136), (52.407, -1.510), (53.796, -1.759),
    (53.745, -0.336), (50.376, -4.143), (52.628, 1.292), (54.978, -1.617), (51.622, -3.943),
    (53.228, -4.129), (57.149, -2.094), (56.462, -2.970), (50.909, -1.404), (50.822, -0.137),
    (51.752, -1.258), (52.205, 0.122), (53.646, -1.782), (54.906, -1.381), (52.587, -2.129),
]  # fmt: skip


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def synthetic(count: int, seed: int = 7) -> tuple[list[Group], list[Activity]]:
    """Groups and activities spread like a network: clustered in cities, some everywhere."""
    rng = random.Random(seed)
    groups = [
        Group(i + 1, f"g{i}", f"Group {i}", "group", None, "Town", "england", lat, lon,
              "g@example.org", None, None, None, "", "Europe/London", True)
        for i, (lat, lon) in enumerate(CITIES)
    ]  # fmt: skip
    activities = []
    for i in range(count):
        if rng.random() < 0.7:
            glat, glon = rng.choice(CITIES)
            lat, lon = glat + rng.gauss(0, 0.08), glon + rng.gauss(0, 0.12)
        else:
            lat, lon = rng.uniform(50.2, 57.5), rng.uniform(-5.5, 1.5)
        weekly = rng.random() < 0.8
        activities.append(
            Activity(
                id=i + 1, ref=None, group_id=rng.randrange(len(groups)) + 1,
                title=f"Activity {i}", category=rng.choice(["english", "conversation", "sport", "food"]),
                description="", venue="", address="", postcode="", lat=lat, lon=lon,
                starts_at=NOW - timedelta(days=rng.randrange(0, 300)) if weekly
                else NOW + timedelta(days=rng.randrange(-60, 120)),
                duration_min=120, rrule="FREQ=WEEKLY;BYDAY=TU" if weekly else None, until=None,
                languages=("en",), cost=None, needs=frozenset({"no_id"}) if rng.random() < 0.5 else frozenset(),
                contact="", status="published", created_by=None, updated_at=NOW,
            )
        )  # fmt: skip
    return groups, activities


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def bench_search(count: int, queries: int, block: int = 100) -> None:
    """Nearby search over ``count`` activities: the grids against a full scan, same run.

    The two take turns in blocks of ``block`` queries (the same points for both), so each is
    timed in its own steady state, as the bot runs: taking turns query by query would time
    the search just after a full scan has pushed everything it uses out of the CPU's caches,
    which the bot never does. That figure is printed too (``after_scan_p95_ms``).
    """
    groups, activities = synthetic(count)
    directory = Directory(None, None)  # type: ignore[arg-type]  # loaded directly, no database
    directory.load(groups, activities)
    rng = random.Random(11)
    points = []
    for _ in range(queries):
        lat, lon = rng.choice(CITIES)
        points.append((lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.07)))
    radius = 25 * KM_PER_MILE
    found = []
    for lat, lon in points:  # the same answers, and everything warmed up once
        page = directory.search(lat, lon, radius, NOW)
        assert page == directory.search(lat, lon, radius, NOW, full_scan=True)
        found.append(page.total)
    indexed, scanned, after_scan = [], [], []
    for start in range(0, queries, block):
        chunk = points[start : start + block]
        for lat, lon in chunk:
            indexed.append(_time(lambda a=lat, o=lon: directory.search(a, o, radius, NOW)))
        for lat, lon in chunk:
            scanned.append(
                _time(lambda a=lat, o=lon: directory.search(a, o, radius, NOW, full_scan=True))
            )
    for lat, lon in points[: max(1, queries // 4)]:
        directory.search(lat, lon, radius, NOW, full_scan=True)
        after_scan.append(_time(lambda a=lat, o=lon: directory.search(a, o, radius, NOW)))
    p95, full_p95 = percentile(indexed, 95), percentile(scanned, 95)
    print(
        f"BENCH name=search activities={count} queries={queries} "
        f"p50_ms={statistics.median(indexed):.3f} p95_ms={p95:.3f} "
        f"fullscan_p50_ms={statistics.median(scanned):.3f} fullscan_p95_ms={full_p95:.3f} "
        f"speedup={full_p95 / p95:.1f} median_results={statistics.median(found):.0f} "
        f"after_scan_p95_ms={percentile(after_scan, 95):.3f} goal_p95_ms=2 goal_speedup=20"
    )


async def _throughput(updates: int, bot: str) -> float:
    """Location updates per second through the fake Bot API.

    ``bot`` is ``ours``; ``ours_httpx``, our whole application on python-telegram-bot's own
    httpx transport (``HTTPXRequest``, as its ``ApplicationBuilder`` sets it up) instead of
    ``AiohttpRequest``: what our transport earns; ``echo``, a bare python-telegram-bot echo bot (its own httpx
    transport: the goal's measure); ``echo_aiohttp``, the same echo bot on our transport
    (``AiohttpRequest``); ``same``, a bare bot on our transport that answers every update with
    one fixed message shaped like our results (the same HTML text and buttons): what sending
    such a message costs on its own, with no search; or ``fixed``, our whole application with
    the search and rendering replaced by that fixed message: what everything but the search
    and rendering costs.
    """
    from telegram import LinkPreviewOptions, Update
    from telegram.constants import ParseMode
    from telegram.ext import Application, MessageHandler, filters

    from bot.app import TrackingUpdateProcessor, build_app, running
    from bot.config import Config
    from bot.delivery.transport import AiohttpRequest
    from bot.places.gazetteer import Gazetteer
    from bot.services import Services
    from bot.views.common import View
    from handlers import find
    from tests.fakeapi import FakeBotAPI

    async with FakeBotAPI() as server:
        stack = contextlib.ExitStack()
        processor = TrackingUpdateProcessor()
        services = None
        with tempfile.TemporaryDirectory() as tmp:
            if bot in ("ours", "ours_httpx", "fixed"):
                config = Config(
                    "1:bench", server.base_url, Path(tmp) / "b.db", CACHE, None,
                    send_rate=CAPACITY_SEND_RATE, chat_gap_s=CAPACITY_CHAT_GAP_S,
                )  # fmt: skip
                services = await Services.create(config, gazetteer=Gazetteer.load(CACHE))
                groups, activities = synthetic(10_000)
                services.directory.load(groups, activities)
                services.clock = lambda: NOW
                if bot == "ours_httpx":
                    from telegram.request import HTTPXRequest

                    from bot import app as app_module

                    httpx_request = functools.partial(HTTPXRequest, connection_pool_size=256)
                    stack.enter_context(patch.object(app_module, "AiohttpRequest", httpx_request))
                app: Any = build_app(config, services=services, processor=processor)
                if bot == "fixed":
                    fixed = View(*_results_message())

                    async def fixed_view(c: Any, s: Any, near: str | None = None) -> View:
                        return fixed

                    stack.enter_context(patch.object(find, "results_view", fixed_view))
            else:
                text, markup = _results_message() if bot == "same" else ("echo", None)

                async def echo(update: Update, context: Any) -> None:
                    assert update.effective_message is not None
                    if markup is None:
                        await update.effective_message.reply_text(text)
                        return
                    await update.effective_message.reply_text(
                        text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup.markup(),  # python-telegram-bot's own objects
                        link_preview_options=LinkPreviewOptions(is_disabled=True),  # as ours
                    )

                builder = (
                    Application.builder()
                    .token("1:echo")
                    .base_url(server.base_url)
                    .concurrent_updates(processor)
                )
                if bot != "echo":  # on our transport, as our bot
                    builder = builder.request(AiohttpRequest()).get_updates_request(
                        AiohttpRequest(connection_pool_size=1)
                    )
                app = builder.build()
                app.add_handler(MessageHandler(filters.ALL, echo))
            users = [server.user(10_000 + i, language_code="en") for i in range(200)]

            def send(seed: int) -> int:
                """``updates`` shared locations, in and around cities like real ones."""
                rng = random.Random(seed)
                for i in range(updates):
                    lat, lon = rng.choice(CITIES)
                    lat, lon = lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.07)
                    last = users[i % len(users)].send_location(lat, lon)
                return last

            async with running(app):
                # Warm up before the clock starts, with as many other places as will be
                # timed: first-use costs (imports, Babel data), each person's first message
                # (one database read, then kept in memory) and what the bot keeps once worked
                # out (each activity's next date until it has passed, each crowded area's
                # packed points), so the figure is the steady state of a bot that has been
                # running, not of one that has just started.
                await processor.wait_processed(send(4), limit_s=600)
                last = send(3)
                gc.collect()  # what the bots before this one left is not collected on its clock
                start = time.perf_counter()
                await processor.wait_processed(last, limit_s=600)
                elapsed = time.perf_counter() - start
            stack.close()
            if services is not None:
                await services.close()
    return updates / elapsed


def _results_message() -> tuple[str, Any]:
    """A typical first page of results near Leeds, as our bot renders it."""
    from bot.callbacks import SearchState
    from bot.i18n import use_locale
    from bot.views import find as fv

    directory = Directory(None, None)  # type: ignore[arg-type]  # loaded directly, no database
    directory.load(*synthetic(10_000))
    state = SearchState.at(53.80, -1.55)
    found = directory.search(*state.point, 25 * KM_PER_MILE, NOW)
    nexts = {hit.activity.id: directory.next_occurrence(hit.activity.id, NOW) for hit in found.hits}
    with use_locale("en"):
        view = fv.results(found, state, 25, nexts)
    return view.text, view.markup


CACHE = Path("data/cache")


def bench_throughput(updates: int, rounds: int = 5) -> None:
    """'Find near me' end to end against a bare python-telegram-bot echo bot, same server.

    The bots take turns, ``rounds`` times, and the medians are printed: this machine's speed
    drifts by a tenth or more from one run to the next. Each round starts with the next bot,
    so each takes each place in the order once (a run leaves the process a little different
    for the next: memory grown, caches filled).
    """
    from bot.i18n import load_catalogs

    load_catalogs()
    bots = ["echo", "echo_aiohttp", "same", "fixed", "ours", "ours_httpx"]
    rates: dict[str, list[float]] = {bot: [] for bot in bots}
    for round_ in range(rounds):
        for bot in bots[round_ % len(bots) :] + bots[: round_ % len(bots)]:
            rates[bot].append(asyncio.run(_throughput(updates, bot)))
    ours, echo, echo_aiohttp, same, fixed, ours_httpx = (
        statistics.median(rates[bot])
        for bot in ("ours", "echo", "echo_aiohttp", "same", "fixed", "ours_httpx")
    )

    def ratio(bot: str, base: str) -> float:
        """The median of the rounds' ratios (each round's two runs close in time)."""
        return statistics.median(a / b for a, b in zip(rates[bot], rates[base], strict=True))

    print(
        f"BENCH name=find_near_me updates={updates} rounds={rounds} ours_per_s={ours:.0f} "
        f"echo_per_s={echo:.0f} ratio={ratio('ours', 'echo'):.2f} "
        f"echo_aiohttp_per_s={echo_aiohttp:.0f} "
        f"ratio_same_transport={ratio('ours', 'echo_aiohttp'):.2f} "
        f"same_message_per_s={same:.0f} same_message_ratio={same / echo_aiohttp:.2f} "
        f"ours_vs_same_message={ours / same:.2f} fixed_view_per_s={fixed:.0f} "
        f"fixed_view_ratio={fixed / echo_aiohttp:.2f} ours_httpx_per_s={ours_httpx:.0f} "
        f"transport_gain={ratio('ours', 'ours_httpx'):.2f} goal_ratio=0.6"
    )


def _renderers(db: Any, folder: Path) -> dict[str, Any]:
    """The bot's renderers over ``db`` (an empty directory: benchmarks send notices and calls)."""
    from bot.config import Config
    from bot.delivery.renderers import build_renderers
    from storage.activities import ActivityRepository
    from storage.campaigns import CampaignRepository
    from storage.groups import GroupRepository
    from storage.users import UserRepository

    config = Config(None, "http://127.0.0.1/bot", folder / "unused.db", folder, None)
    directory = Directory(ActivityRepository(db), GroupRepository(db))
    return build_renderers(
        directory, lambda: NOW, UserRepository(db), config, CampaignRepository(db)
    )


async def _served(updates: int, mode: str) -> tuple[float, list[float], float]:
    """'Find near me' through the whole service (``bot.service.serving``, as ``run`` starts
    it) taking updates on its webhook, or polling: updates per second, each reply's delay,
    and the bot's CPU milliseconds per update (its threads included). ``one_at_a_time``:
    polling with python-telegram-bot's default processor, one update at a time, as the bot
    was before ``InTurnProcessor``."""
    import multiprocessing
    import socket

    from telegram.ext import SimpleUpdateProcessor

    from bench.fake_telegram import fake_telegram
    from bot.app import build_app
    from bot.config import Config
    from bot.places.gazetteer import Gazetteer
    from bot.service import serving
    from bot.services import Services

    one_at_a_time = mode == "one_at_a_time"
    loop = asyncio.get_running_loop()
    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.get_context("spawn").Process(
        target=fake_telegram, args=(child, updates), daemon=True
    )
    fake.start()
    child.close()  # so that a fake that died is an EOFError here, not a wait forever
    try:
        port = await loop.run_in_executor(None, parent.recv)
        with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            hook = f"http://127.0.0.1:{sock.getsockname()[1]}/hook" if mode == "webhook" else None
            config = Config(
                "1:bench", f"http://127.0.0.1:{port}/bot", Path(tmp) / "b.db", CACHE, None,
                webhook_url=hook, webhook_secret="bench-secret" if hook else None,
                send_rate=CAPACITY_SEND_RATE, chat_gap_s=CAPACITY_CHAT_GAP_S,
            )  # fmt: skip
            services = await Services.create(config, gazetteer=Gazetteer.load(CACHE))
            services.directory.load(*synthetic(10_000))
            services.clock = lambda: NOW
            processor = SimpleUpdateProcessor(1) if one_at_a_time else None
            app = build_app(config, services=services, processor=processor)
            async with serving(app, config, sock=sock, poll_timeout=1):
                for seed in (4, 3):  # warmed up first with as many other places (see above)
                    rng = random.Random(seed)
                    places = [
                        (lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.07))
                        for lat, lon in (rng.choice(CITIES) for _ in range(updates))
                    ]
                    gc.collect()
                    cpu = time.process_time()
                    parent.send(("run", places))
                    elapsed, delays = await loop.run_in_executor(None, parent.recv)
                    cpu = time.process_time() - cpu
            await services.close()
        parent.send(("stop",))
    finally:
        fake.join(timeout=10)
        if fake.is_alive():
            fake.kill()
    return updates / elapsed, delays, cpu / updates * 1000


def bench_webhook(updates: int, rounds: int = 3) -> None:
    """The same bot taking 'find near me' updates on its webhook against polling, each with
    the fake Telegram in a process of its own; the modes take turns, medians of the rounds.

    ``post_to_reply_p95_ms``: from the fake Telegram posting an update to the reply's
    sendMessage, with as many updates as it can post at once (40 connections, as Telegram).
    ``*_cpu_ms``: the bot process's CPU time per update, what it would take alone on a core.
    ``one_at_a_time_per_s``: polling one update at a time, as the bot did before
    ``InTurnProcessor`` (webhook and polling alike now handle different people's updates at
    the same time); ``ratio_to_one_at_a_time``: the webhook against that.
    """
    from bot.i18n import load_catalogs

    load_catalogs()
    modes = ["webhook", "polling", "one_at_a_time"]
    runs: dict[str, list[tuple[float, list[float], float]]] = {mode: [] for mode in modes}
    for round_ in range(rounds):
        for mode in modes[round_ % len(modes) :] + modes[: round_ % len(modes)]:
            runs[mode].append(asyncio.run(_served(updates, mode)))

    def median(mode: str, pick: Callable[[tuple[float, list[float], float]], float]) -> float:
        return statistics.median(pick(run) for run in runs[mode])

    def ratio(base: str) -> float:
        """The median of the rounds' ratios (each round's runs close in time)."""
        pairs = zip(runs["webhook"], runs[base], strict=True)
        return statistics.median(w[0] / b[0] for w, b in pairs)

    webhook_cpu, polling_cpu = median("webhook", lambda r: r[2]), median("polling", lambda r: r[2])
    print(
        f"BENCH name=webhook updates={updates} rounds={rounds} "
        f"webhook_per_s={median('webhook', lambda r: r[0]):.0f} "
        f"polling_per_s={median('polling', lambda r: r[0]):.0f} "
        f"ratio_to_polling={ratio('polling'):.2f} "
        f"post_to_reply_p95_ms={median('webhook', lambda r: percentile(r[1], 95) * 1000):.1f} "
        f"post_to_reply_p50_ms={median('webhook', lambda r: statistics.median(r[1]) * 1000):.1f} "
        f"webhook_cpu_ms={webhook_cpu:.2f} polling_cpu_ms={polling_cpu:.2f} "
        f"cpu_ratio_to_polling={polling_cpu / webhook_cpu:.2f} "
        f"one_at_a_time_per_s={median('one_at_a_time', lambda r: r[0]):.0f} "
        f"ratio_to_one_at_a_time={ratio('one_at_a_time'):.2f} goal_ratio_to_polling=1.0"
    )


async def _delivery(messages: int, rate: float) -> tuple[float, int, int]:
    """Send ``messages`` outbox rows through the sender to a server counting limit violations."""
    from telegram import Bot

    from bot.delivery.outbox import RateLimiter, Sender
    from bot.delivery.transport import AiohttpRequest
    from storage.db import Database
    from storage.outbox import OutboxItem, OutboxRepository
    from storage.users import UserRepository
    from tests.fakeapi import FakeBotAPI

    async with FakeBotAPI() as server:
        server.enforce_limits(per_second_total=rate, per_chat_per_second=1, per_group_per_minute=20)
        with tempfile.TemporaryDirectory() as tmp:
            db = await Database.open(Path(tmp) / "d.db")
            outbox = OutboxRepository(db)
            # Most people get one message; every tenth message goes to someone who gets several.
            chats = [i + 1 if i % 10 else 1_000_000 + (i // 10) % 50 for i in range(messages)]
            await outbox.enqueue(
                OutboxItem("notice", f"bench:{i}", chat, {"message": "Free"})
                for i, chat in enumerate(chats)
            )
            request = AiohttpRequest()  # as the application's bot sends
            async with Bot("1:bench", base_url=server.base_url, request=request) as bot:
                sender = Sender(
                    bot,
                    outbox,
                    UserRepository(db),
                    _renderers(db, Path(tmp)),
                    RateLimiter(per_second=rate),
                )
                start = time.perf_counter()
                while await sender.run_once():
                    pass
                elapsed = time.perf_counter() - start
            sent = (await outbox.counts()).get("sent", 0)
            await db.close()
        for line in server.violation_log[:3]:
            print(f"(violation: {line})")
        return elapsed, sent, server.violations


def bench_delivery(messages: int, rate: float) -> None:
    """Broadcast through the outbox against a server enforcing Telegram's limits."""
    elapsed, sent, violations = asyncio.run(_delivery(messages, rate))
    achieved = sent / elapsed
    print(
        f"BENCH name=delivery messages={messages} sent={sent} rate_per_s={achieved:.1f} "
        f"limit_per_s={rate:g} ratio={achieved / rate:.3f} violations={violations} "
        f"seconds={elapsed:.1f} goal_ratio=0.95 goal_violations=0"
    )


async def _round_trip(messages: int, rate: float, round_trip_s: float) -> dict[str, float]:
    """Send ``messages`` to different people at Telegram's ``rate`` through a fake Bot API
    that answers each call ``round_trip_s`` late, counting limit violations."""
    from telegram import Bot

    from bot.delivery.outbox import RateLimiter, Sender
    from bot.delivery.transport import AiohttpRequest
    from storage.db import Database
    from storage.outbox import OutboxItem, OutboxRepository
    from storage.users import UserRepository
    from tests.fakeapi import FakeBotAPI

    async with FakeBotAPI() as server:
        server.enforce_limits(per_second_total=rate, per_chat_per_second=1, per_group_per_minute=20)
        server.round_trip_s = round_trip_s
        with tempfile.TemporaryDirectory() as tmp:
            db = await Database.open(Path(tmp) / "rtt.db")
            outbox = OutboxRepository(db)
            await outbox.enqueue(
                OutboxItem("notice", "bench", chat, {"message": "Free"})
                for chat in range(1, messages + 1)
            )
            async with Bot("1:bench", base_url=server.base_url, request=AiohttpRequest()) as bot:
                sender = Sender(
                    bot, outbox, UserRepository(db), _renderers(db, Path(tmp)),
                    RateLimiter(per_second=rate),
                )  # fmt: skip
                while await sender.run_once():
                    pass
            await db.close()
        times = sorted(c.at for c in server.calls_to("sendMessage") if c.status == 200)
        for line in server.violation_log[:3]:
            print(f"(violation: {line})")
        return {
            "sent": len(times),
            # messages after the first, over the time from the first to the last arrival
            "rate": (len(times) - 1) / (times[-1] - times[0]),
            "violations": server.violations,
            "peak": server.in_flight_peak,
        }


def bench_round_trip(messages: int, rate: float = 30.0, round_trip_s: float = 0.1) -> None:
    """Sending at Telegram's 30/s when each call takes 100 ms to answer."""
    r = asyncio.run(_round_trip(messages, rate, round_trip_s))
    print(
        f"BENCH name=delivery_round_trip messages={messages} sent={r['sent']:.0f} "
        f"round_trip_ms={round_trip_s * 1000:.0f} send_rate_at_100ms_rtt={r['rate']:.1f} "
        f"limit_per_s={rate:g} ratio={r['rate'] / rate:.3f} in_flight_peak={r['peak']:.0f} "
        f"violations={r['violations']:.0f} goal_ratio=0.95 goal_violations=0"
    )


async def _lanes(queued: int, rate: float) -> dict[str, float]:
    """A reminder queued behind ``queued`` campaign messages already being sent: how long
    until it reaches Telegram."""
    from telegram import Bot

    from bot.delivery.outbox import RateLimiter, Sender
    from bot.delivery.transport import AiohttpRequest
    from storage.db import Database
    from storage.outbox import OutboxItem, OutboxRepository
    from storage.users import UserRepository
    from tests.fakeapi import FakeBotAPI

    async with FakeBotAPI() as server:
        server.enforce_limits(per_second_total=rate, per_chat_per_second=1, per_group_per_minute=20)
        with tempfile.TemporaryDirectory() as tmp:
            db = await Database.open(Path(tmp) / "lanes.db")
            outbox = OutboxRepository(db)
            await outbox.enqueue(  # bulk in the campaign lane, rendered as a short notice
                OutboxItem("campaign", "bench", chat, {"message": "Free"})
                for chat in range(1, queued + 1)
            )
            reminder = queued + 1
            async with Bot("1:bench", base_url=server.base_url, request=AiohttpRequest()) as bot:
                notice = _renderers(db, Path(tmp))["notice"]
                renderers = {"campaign": notice, "change": notice}
                sender = Sender(
                    bot, outbox, UserRepository(db), renderers, RateLimiter(per_second=rate)
                )
                task = asyncio.create_task(sender.run(idle_s=0.5))
                while True:  # until bulk is flowing
                    if len(server.calls_to("sendMessage")) >= 2 * rate:
                        break
                    await asyncio.sleep(0.05)
                start = time.monotonic()
                await outbox.enqueue(  # a time-critical message ("this date is cancelled")
                    [OutboxItem("change", "bench", reminder, {"message": "Free"})]
                )
                sender.wake()
                while True:
                    if server.messages(reminder):
                        break
                    await asyncio.sleep(0.01)
                arrived = next(
                    c.at for c in server.calls_to("sendMessage") if c.chat_id == reminder
                )
                ahead = (await outbox.counts("campaign")).get("pending", 0)
                sender.stop()
                await task
            await db.close()
        return {
            "delay_s": arrived - start,
            "ahead": ahead,
            "violations": server.violations,
        }


def bench_lanes(queued: int, rate: float = 30.0) -> None:
    """A time-critical message's delay with ``queued`` campaign messages ahead of it."""
    r = asyncio.run(_lanes(queued, rate))
    print(
        f"BENCH name=delivery_lanes campaign_queued={queued} still_queued={r['ahead']:.0f} "
        f"limit_per_s={rate:g} reminder_delay_s={r['delay_s']:.2f} "
        f"fifo_delay_s={queued / rate:.0f} violations={r['violations']:.0f} goal_delay_s=60"
    )


class LoopLag:
    """The longest the event loop was kept from a 5 ms timer while the block ran (a freeze)."""

    def __init__(self) -> None:
        self.worst_s = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst_s = max(self.worst_s, time.perf_counter() - start - 0.005)

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._watch())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def _campaign(supporters: int, rate: float) -> dict[str, float]:
    """A call to ``supporters`` people through the desk, the outbox and the sender, paused
    half way and resumed, against a server counting limit violations."""
    from telegram import Bot

    from bot.delivery.outbox import RateLimiter, Sender
    from bot.domain.campaigns import CampaignDesk
    from storage.alerts import AlertRepository
    from storage.campaigns import CampaignRepository
    from storage.db import Database, to_db
    from storage.outbox import OutboxRepository
    from storage.roles import RoleRepository
    from storage.users import UserRepository
    from tests.fakeapi import FakeBotAPI

    async with FakeBotAPI() as server:
        server.enforce_limits(per_second_total=rate, per_chat_per_second=1, per_group_per_minute=20)
        with tempfile.TemporaryDirectory() as tmp:
            db = await Database.open(Path(tmp) / "c.db")
            stamp = to_db(NOW)
            locales = ("en", "ar", "fa", "uk", "fr")
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO users (id, locale, intent, created_at, updated_at) "
                    "VALUES (?, ?, 'supporter', ?, ?)",
                    [(i, locales[i % 5], stamp, stamp) for i in range(1, supporters + 1)],
                )
                await conn.executemany(
                    "INSERT INTO alert_subs (user_id, topics, areas, created_at, updated_at) "
                    "VALUES (?, 63, 7, ?, ?)",
                    [(i, stamp, stamp) for i in range(1, supporters + 1)],
                )
            campaigns, outbox, users = (
                CampaignRepository(db),
                OutboxRepository(db),
                UserRepository(db),
            )
            call = await campaigns.create(1, NOW)
            await campaigns.update(
                call.id, NOW, title="Lift the ban", body="Ask your MP. " * 20,
                action_url="https://example.org/act", topics=1,
            )  # fmt: skip
            await campaigns.set_translation(call.id, "ar", "ارفعوا الحظر", "اكتبوا", NOW)
            desk = CampaignDesk(
                campaigns, AlertRepository(db), RoleRepository(db), lambda a, b: "", lambda: NOW,
                lambda: None,
            )  # fmt: skip
            start = time.perf_counter()
            lag = LoopLag()
            async with lag:
                await desk.confirm(call.id, 1)
            launch_s = time.perf_counter() - start
            async with Bot("1:bench", base_url=server.base_url) as bot:
                renderers = _renderers(db, Path(tmp))
                sender = Sender(bot, outbox, users, renderers, RateLimiter(per_second=rate))
                task = asyncio.create_task(sender.run(idle_s=0.2))
                start = time.perf_counter()
                while True:  # half of them, then pause
                    if len(server.calls_to("sendMessage")) >= supporters // 2:
                        break
                    await asyncio.sleep(0.01)
                async with lag:
                    await desk.pause(call.id, 1)
                paused_at = time.monotonic()
                await asyncio.sleep(2.0)
                after_pause = [c.at for c in server.calls_to("sendMessage") if c.at > paused_at]
                stop_s = (max(after_pause) - paused_at) if after_pause else 0.0
                async with lag:
                    await desk.resume(call.id, 1)
                sender.wake()
                while True:  # until nothing is left to send
                    counts = await outbox.counts("campaign")
                    if not counts.get("pending", 0) and not counts.get("sending", 0):
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - start - 2.0
                sender.stop()
                await task
            await desk.finish()
            done = await campaigns.get(call.id)
            assert done is not None
            await db.close()
        for line in server.violation_log[:3]:
            print(f"(violation: {line})")
        return {
            "sent": done.figures.sent,
            "state_sent": float(done.state == "sent"),
            "launch_s": launch_s,
            "lag_ms": lag.worst_s * 1000,
            "seconds": elapsed,
            "violations": server.violations,
            "stop_s": stop_s,
            "after_pause": len(after_pause),
        }


def bench_campaign(supporters: int, rate: float) -> None:
    """A 10,000-supporter call, paused half way and resumed, within the limits."""
    r = asyncio.run(_campaign(supporters, rate))
    achieved = r["sent"] / r["seconds"]
    print(
        f"BENCH name=campaign supporters={supporters} sent={r['sent']:.0f} "
        f"finished={r['state_sent'] == 1} launch_s={r['launch_s']:.2f} "
        f"launch_pause_resume_max_loop_lag_ms={r['lag_ms']:.0f} "
        f"rate_per_s={achieved:.1f} limit_per_s={rate:g} ratio={achieved / rate:.3f} "
        f"violations={r['violations']:.0f} pause_stop_s={r['stop_s']:.2f} "
        f"sent_after_pause={r['after_pause']:.0f} seconds={r['seconds']:.1f} "
        f"goal_violations=0 goal_pause_stop_s=1 goal_max_loop_lag_ms=100"
    )


# What people type that is not a place (tests/test_geo.py checks the answers; this the time).
HOSTILE = [
    "x" * 5_000, "Leeds " * 1_000, "ل" * 5_000, "Leeds" + "\u0301" * 5_000, "\u0301" * 5_000,
    "🇬🇧" * 2_500, "<script>alert('Leeds')</script>", "\u202eSDEEL\u202c", "\x00\x01\x7f",
    "%s %d {0} '; DROP TABLE users; --", "\ud800",
]  # fmt: skip
MISSPELT = ["Sheffeild", "Xyzzyville", "Edinbrugh", "Wolverhamptn", "Huddersfeild"]


def bench_places(rounds: int = 20) -> None:
    """Typed places: the slowest answer to a hostile text (5,000 characters of one letter,
    combining accents...), a misspelt name's fuzzy search, and a restart's load of the place
    cache (the GeoNames world file alone takes some 3 s)."""
    from bot.places.gazetteer import Gazetteer, Locator
    from bot.places.postcodes import Outcodes

    Gazetteer.load(CACHE)  # built once beforehand: a restart reads the cache
    gc.collect()
    start = time.perf_counter()
    gazetteer = Gazetteer.load(CACHE)
    load_s = time.perf_counter() - start
    outcodes_csv = os.environ.get("SANCTUARY_OUTCODES")
    outcodes = Outcodes.from_csv(Path(outcodes_csv)) if outcodes_csv else None
    locator = Locator(gazetteer, outcodes)
    hostile = [_time(lambda q=q: locator.locate(q)) for q in HOSTILE * rounds]
    fuzzy = [_time(lambda q=q: gazetteer.search(q)) for q in MISSPELT * rounds]
    print(
        f"BENCH name=places hostile_max_ms={max(hostile):.1f} "
        f"hostile_p50_ms={statistics.median(hostile):.2f} fuzzy_p50_ms={statistics.median(fuzzy):.2f} "
        f"fuzzy_max_ms={max(fuzzy):.2f} cache_load_s={load_s:.2f} postcodes={outcodes is not None} "
        f"goal_hostile_ms=500 goal_fuzzy_ms=50 goal_cache_load_s=2"
    )


def _rss_mb() -> float:
    """Resident memory of this process now (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _reminders(pending: int) -> tuple[float, float, int, float]:
    """Restart-to-ready time and memory growth with ``pending`` reminder subscriptions."""
    from bot.config import Config
    from bot.places.gazetteer import Gazetteer
    from bot.services import Services
    from storage.db import Database, to_db, utcnow

    with tempfile.TemporaryDirectory() as tmp:
        config = Config("1:bench", "http://127.0.0.1:9/bot", Path(tmp) / "r.db", CACHE, None)
        db = await Database.open(config.db_path)
        groups, activities = synthetic(10_000)
        now = to_db(utcnow())
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO groups (id, ref, name, kind, town, nation, lat, lon, created_at, "
                "updated_at) VALUES (?, ?, ?, 'group', 'Town', 'england', ?, ?, ?, ?)",
                [(g.id, g.ref, g.name, g.lat, g.lon, now, now) for g in groups],
            )
            await conn.executemany(
                "INSERT INTO activities (id, group_id, title, category, lat, lon, starts_at, "
                "duration_min, rrule, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (a.id, a.group_id, a.title, a.category, a.lat, a.lon, to_db(a.starts_at),
                     a.duration_min, a.rrule, now, now)
                    for a in activities
                ],
            )  # fmt: skip
            users = pending // 4
            await conn.executemany(
                "INSERT INTO users (id, locale, created_at, updated_at) VALUES (?, 'en', ?, ?)",
                [(10_000 + i, now, now) for i in range(users)],
            )
            await conn.executemany(
                "INSERT INTO reminders (user_id, activity_id, created_at) VALUES (?, ?, ?)",
                [
                    (10_000 + i % users, 1 + (i // users * 2503 + i) % 10_000, now)
                    for i in range(pending)
                ],
            )
        await db.close()
        Gazetteer.load(CACHE)  # built once beforehand: a restart reads the cache
        before = _rss_mb()
        start = time.perf_counter()
        services = await Services.create(config)
        services.clock = lambda: NOW
        ready = time.perf_counter() - start
        loaded = _rss_mb()  # the bot without its reminders: places, directory, database
        plan_start = time.perf_counter()
        planned = await services.plan_reminders()
        plan_s = time.perf_counter() - plan_start
        growth = _rss_mb() - loaded
        print(f"(services loaded: +{loaded - before:.1f} MB before any reminder is read)")
        await services.close()
    return ready, growth, planned, plan_s


def bench_reminders(pending: int) -> None:
    """100,000 pending reminders: memory growth and restart-to-ready time."""
    ready, growth, planned, plan_s = asyncio.run(_reminders(pending))
    print(
        f"BENCH name=reminders pending={pending} rss_growth_mb={growth:.1f} restart_s={ready:.2f} "
        f"first_plan_s={plan_s:.2f} planned_now={planned} goal_rss_mb=30 goal_restart_s=2"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (``python -m bench scale ...``: the national scale one)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["scale"]:
        from bench import scale

        return scale.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument(
        "--send-rate",
        type=float,
        default=300.0,
        help="the limit for the delivery bench: Telegram's 30/s would take 6 minutes for 10,000",
    )
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--supporters", type=int, default=10_000)
    parser.add_argument(
        "--only",
        choices=[
            "search",
            "places",
            "find",
            "webhook",
            "delivery",
            "campaign",
            "reminders",
            "instances",
            "budget",
        ],
        default=None,
    )
    args = parser.parse_args(argv)
    if args.only in (None, "search"):
        bench_search(args.activities, args.queries)
    if args.only in (None, "places"):
        bench_places()
    if args.only in (None, "find"):
        bench_throughput(args.updates)
    if args.only in (None, "webhook"):
        bench_webhook(args.updates)
    if args.only in (None, "delivery"):
        bench_delivery(args.messages, args.send_rate)
        bench_delivery(min(args.messages, 600), 30.0)
        bench_round_trip(min(args.messages, 450))
        bench_lanes(args.messages)
    if args.only in (None, "campaign"):
        bench_campaign(args.supporters, args.send_rate)
    if args.only in (None, "reminders"):
        bench_reminders(args.pending)
    if args.only in (None, "instances"):
        from bench.instances import bench_instances

        bench_instances(min(args.updates, 1_000), CACHE)
    if args.only in (None, "budget"):
        from bench.budget import bench_budget

        bench_budget()
    return 0


if __name__ == "__main__":
    sys.exit(main())
