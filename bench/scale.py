"""``make bench-scale`` (``python -m bench scale``): the bot at national scale on one machine.

Builds a national data set with the project's own migrations and repositories (seeded,
synthetic: UK towns from the gazetteer weighted by population; 1,000,000 people, 60% seeking,
5% volunteering, 35% supporters; 100,000 published activities in 1,500 groups; 200,000
reminder subscriptions; 200,000 weekly-digest readers; 12 weeks of outbox history), cached by
its seed under ``data/bench/``, and the same at a tenth (10,000 activities) for the baselines.
Then it starts the bot's services on a copy of it and prints one ``BENCH name=scale ...`` line.

Every stage runs under a small task that measures how late the event loop wakes it (the
longest freeze), and every database transaction and statement is timed. A stage is a function
in ``STAGES``: one that is not written yet (its code is on another branch) prints ``na``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import CAPACITY_SEND_RATE

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday morning
DATA = Path("data/bench")
CACHE = Path("data/cache")
FORMAT = 2  # bumped when the data set changes shape: older caches are built again
LONDON = (51.507, -0.128)


@dataclass(frozen=True)
class Size:
    """How big a data set is."""

    people: int = 1_000_000
    activities: int = 100_000
    groups: int = 1_500
    reminders: int = 200_000
    digest_readers: int = 200_000
    outbox_weeks: int = 12

    def tenth(self) -> Size:
        """The baseline: a tenth of everything, at least as many groups as cities."""
        return Size(
            self.people // 10, self.activities // 10, max(150, self.groups // 10),
            self.reminders // 10, self.digest_readers // 10, self.outbox_weeks,
        )  # fmt: skip


def dataset_path(seed: int, size: Size) -> Path:
    """Where the data set of this seed and size is cached: the key names the last migration
    too, since a cache built on another branch's numbering would never get the missing ones."""
    from storage.db import migrations

    schema = migrations()[-1].version
    return DATA / f"scale-v{FORMAT}-m{schema}-s{seed}-a{size.activities}-p{size.people}.db"


# -- building the data set --------------------------------------------------------------------


async def build(path: Path, seed: int, size: Size) -> None:
    """Build the data set into ``path`` (through a temporary file: a half-built one is never
    taken for a finished one)."""
    from bot.domain.posting import SPOKEN
    from bot.domain.vocabulary import TAGGABLE_NEEDS, Category, Nation
    from bot.places.gazetteer import Gazetteer
    from storage.activities import ActivityRepository
    from storage.db import Database, to_db
    from storage.groups import GroupRepository
    from storage.models import ActivityData, GroupData

    rng = random.Random(seed)
    towns = [p for p in Gazetteer.load(CACHE) if p.population > 0]
    weights = [p.population for p in towns]
    nations = {"ENG": Nation.ENGLAND, "SCT": Nation.SCOTLAND, "WLS": Nation.WALES,
               "NIR": Nation.NORTHERN_IRELAND}  # fmt: skip
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = await Database.open(partial)
    await db.conn.execute("PRAGMA synchronous=OFF")
    stamp = to_db(NOW - timedelta(days=120))

    group_towns = rng.choices(towns, weights, k=size.groups)
    groups = [
        GroupData(
            ref=f"g{i}", name=f"{town.name} City of Sanctuary", kind="group", stream=None,
            town=town.name, nation=nations.get(town.region, Nation.ENGLAND).value,
            lat=town.lat + rng.gauss(0, 0.01), lon=town.lon + rng.gauss(0, 0.015),
            email=f"hello@g{i}.example.org", website=f"https://g{i}.example.org",
            description="A welcoming network of local people and organisations. " * 3,
        )
        for i, town in enumerate(group_towns)
    ]  # fmt: skip
    async with db.transaction() as conn:
        await GroupRepository.upsert_many(conn, groups)
    # activities go where people are: a group is chosen by its town's population
    group_weights = [max(t.population, 500) for t in group_towns]
    categories = [c.value for c in Category]
    rules = ["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=TU", "FREQ=WEEKLY;BYDAY=WE,SA",
             "FREQ=WEEKLY;BYDAY=TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
             "FREQ=MONTHLY;BYDAY=1SA", "FREQ=MONTHLY;BYDAY=-1SU"]  # fmt: skip
    refs = await GroupRepository(db).refs()
    chunk: list[ActivityData] = []
    for i in range(size.activities):
        group = rng.choices(groups, group_weights)[0]
        shape = rng.random()
        start = NOW + timedelta(
            days=rng.randrange(-400, 0) if shape < 0.85 else rng.randrange(-30, 90),
            hours=rng.randrange(0, 10), minutes=rng.choice([0, 15, 30, 45]),
        )  # fmt: skip
        rule = rng.choice(rules) if shape < 0.85 else None
        until = (
            (NOW + timedelta(days=rng.randrange(-60, 400))).date() if rule and shape < 0.3 else None
        )
        chunk.append(
            ActivityData(
                ref=f"a{i}", group_ref=group.ref, title=f"{rng.choice(categories).title()} "
                f"at {group.town} #{i}", category=rng.choice(categories),
                description="Come along for tea, a chat and a warm welcome. " * rng.randrange(2, 8),
                venue=f"{group.town} Community Hall", address=f"{rng.randrange(1, 200)} High Street",
                postcode="LS1 1AA", lat=group.lat + rng.gauss(0, 0.03),
                lon=group.lon + rng.gauss(0, 0.045), starts_at=start,
                duration_min=rng.choice([60, 90, 120]), rrule=rule, until=until,
                languages=tuple(sorted({"en", *rng.sample(SPOKEN, rng.randrange(0, 3))})),
                cost=None if rng.random() < 0.7 else "£2",
                needs=frozenset(rng.sample(TAGGABLE_NEEDS, rng.randrange(0, 3))),
                contact=f"07700 900{rng.randrange(1000):03d}",
            )
        )  # fmt: skip
        if len(chunk) == 5_000 or i == size.activities - 1:
            async with db.transaction() as conn:
                await ActivityRepository.upsert_many(conn, chunk, refs)
            chunk = []

    # people: ids from 10**9 up; areas rounded as the bot stores them
    seeking = int(size.people * 0.60)
    volunteering = int(size.people * 0.05)
    readers = set(rng.sample(range(seeking), min(size.digest_readers, seeking)))
    locales = ["en", "ar", "fa", "ps", "ur", "ku", "ti", "so", "sq", "vi", "uk", "fr", "es"]
    user_towns = rng.choices(towns, weights, k=size.people)

    def people() -> Iterator[tuple[Any, ...]]:
        for n in range(size.people):
            intent = (
                "seeking"
                if n < seeking
                else "volunteer"
                if n < seeking + volunteering
                else "supporter"
            )
            town = user_towns[n]
            saved = n in readers or rng.random() < 0.3
            yield (10**9 + n, rng.choice(locales), intent,
                   round(town.lat + rng.gauss(0, 0.02), 2) if saved else None,
                   round(town.lon + rng.gauss(0, 0.03), 2) if saved else None,
                   town.name if saved else None, stamp, stamp, int(n in readers), stamp)  # fmt: skip

    await _insert(
        db,
        "INSERT INTO users (id, locale, intent, area_lat, area_lon, area_label, created_at, "
        "updated_at, weekly_digest, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        people(),
    )
    supporters = range(10**9 + seeking + volunteering, 10**9 + size.people)
    await _insert(
        db,
        "INSERT INTO alert_subs (user_id, topics, areas, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        ((u, 2**20 - 1, 2**20 - 1, stamp, stamp) for u in supporters),
    )
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < size.reminders:
        pairs.add((10**9 + rng.randrange(seeking), rng.randrange(1, size.activities + 1)))
    await _insert(
        db,
        "INSERT INTO reminders (user_id, activity_id, created_at) VALUES (?, ?, ?)",
        ((u, a, stamp) for u, a in sorted(pairs)),
    )

    def history() -> Iterator[tuple[Any, ...]]:
        """What 12 weeks of sending left: digests, reminders, a campaign call a month."""
        reader_ids = sorted(10**9 + n for n in readers)
        reminded = sorted(pairs)
        for week in range(size.outbox_weeks, 0, -1):
            monday = NOW - timedelta(weeks=week)
            sent = to_db(monday + timedelta(hours=2))
            year, number, _ = monday.isocalendar()
            for user in reader_ids:
                yield ("digest", f"{year}-W{number:02d}", user, "{}", "sent", sent, sent, sent)
            for user, activity in reminded:
                subject = f"{activity}:{monday.date().isoformat()}:day"
                payload = json.dumps({"activity_id": activity})
                yield ("reminder", subject, user, payload, "sent", sent, sent, sent)
            if week % 4 == 0:
                for user in supporters:
                    yield ("campaign", f"c{week}", user, "{}", "sent", sent, sent, sent)

    await _insert(
        db,
        "INSERT OR IGNORE INTO outbox (kind, subject, chat_id, payload, state, not_before, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        history(),
    )
    await db.conn.execute("ANALYZE")
    # what the first start of the bot does once: work out and keep each series' last end
    from bot.search.directory import Directory

    await Directory(ActivityRepository(db), GroupRepository(db)).refresh()
    await db.close()
    partial.rename(path)


async def _insert(db: Any, sql: str, rows: Iterator[tuple[Any, ...]] | Any) -> None:
    """Insert rows 50,000 to a transaction."""
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 50_000:
            async with db.transaction() as conn:
                await conn.executemany(sql, batch)
            batch = []
    if batch:
        async with db.transaction() as conn:
            await conn.executemany(sql, batch)


def ensure(seed: int, size: Size) -> Path:
    """The cached data set, built first (in a child process, so that what building it used
    is not counted in this one's memory) if it is not there yet."""
    path = dataset_path(seed, size)
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bench", "scale", "--build", str(path), "--seed", str(seed),
             "--activities", str(size.activities), "--people", str(size.people),
             "--groups", str(size.groups), "--reminders", str(size.reminders),
             "--digest-readers", str(size.digest_readers)],
            check=True,
        )  # fmt: skip
        print(f"(built {path} in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return path


# -- measuring --------------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident memory of this process now (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


class LoopMonitor:
    """A task that sleeps ``tick`` seconds at a time and notes how much later it wakes: the
    longest freeze of the event loop, by stage."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.stage = "start"
        self.worst: dict[str, float] = {}
        # the same in processor time of the loop's thread: what the bot itself kept the loop
        # busy for, without the time this process waited for a core on a loaded machine
        self.worst_cpu: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(self.tick)
            late = (loop.time() - before - self.tick) * 1000
            busy = (time.thread_time() - cpu) * 1000
            if late > self.worst.get(self.stage, 0.0):
                self.worst[self.stage] = late
            if busy > self.worst_cpu.get(self.stage, 0.0):
                self.worst_cpu[self.stage] = busy

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class DbTimer:
    """Times every transaction (BEGIN to COMMIT) and every statement outside one."""

    worst_ms: float = 0.0
    worst_what: str = ""
    _undo: list[Callable[[], None]] = field(default_factory=list)
    # the bench's own connection (its counting queries are not the bot's work)
    untimed: set[int] = field(default_factory=set)

    stage: str = "start"
    # the worst of each stage, and what it was
    by_stage: dict[str, tuple[float, str]] = field(default_factory=dict)

    def note(self, ms: float, what: str) -> None:
        if ms > self.worst_ms:
            self.worst_ms, self.worst_what = ms, f"{self.stage}:{'_'.join(what.split()[:8])}"
        if ms > self.by_stage.get(self.stage, (0.0, ""))[0]:
            self.by_stage[self.stage] = (ms, "_".join(what.split()[:8]))

    def install(self) -> None:
        # the SQLite classes themselves: patching the engine-neutral base would time nothing
        from storage.db import SQLiteConnection as Connection
        from storage.db import SQLiteDatabase as Database

        timer = self
        transaction = Database.transaction

        @contextlib.asynccontextmanager
        async def timed_transaction(db: Database) -> AsyncIterator[Connection]:
            caller = sys._getframe(1)  # who opened it: the first frame outside contextlib
            while caller.f_back is not None and caller.f_code.co_filename.endswith("contextlib.py"):
                caller = caller.f_back
            async with transaction(db) as conn:
                start = time.perf_counter()
                try:
                    yield conn
                finally:
                    timer.note(
                        (time.perf_counter() - start) * 1000,
                        f"transaction in {caller.f_code.co_qualname}",
                    )

        raw_execute = Connection.execute

        def timed_execute(conn: Connection, sql: str, parameters: Any = None) -> Any:
            start = time.perf_counter()
            inner = raw_execute(conn, sql, parameters)
            if id(conn) in timer.untimed:
                return inner

            async def measured() -> Any:
                cursor = await inner
                if not conn._db._lock.locked():  # alone: its own time, no waiting counted
                    timer.note((time.perf_counter() - start) * 1000, sql[:60])
                return cursor

            return _Awaitable(measured(), inner)

        Database.transaction = timed_transaction  # type: ignore[method-assign,assignment]
        Connection.execute = timed_execute  # type: ignore[method-assign,assignment]

        def undo() -> None:
            Database.transaction = transaction  # type: ignore[method-assign]
            Connection.execute = raw_execute  # type: ignore[method-assign]

        self._undo.append(undo)

    def uninstall(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()


class _Awaitable:
    """``conn.execute(...)`` both awaited and used as ``async with``, timed."""

    def __init__(self, measured: Awaitable[Any], inner: Any) -> None:
        self._measured = measured
        self._inner = inner
        self._cursor: Any = None

    def __await__(self) -> Any:
        return self._measured.__await__()

    async def __aenter__(self) -> Any:
        self._cursor = await self._measured
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        await self._cursor.close()


@dataclass
class Run:
    """What the stages share: the bot's services on a copy of the data set, and results."""

    services: Any
    size: Size
    rng: random.Random
    monitor: LoopMonitor
    results: dict[str, str] = field(default_factory=dict)
    clock: datetime = NOW
    timer: DbTimer | None = None

    async def query(self, sql: str, *params: Any) -> Any:
        """A row the bench itself needs (not the bot's work), on a connection of its own that
        is not timed (it reads beside the bot's, as WAL lets it)."""
        from storage.db import Database

        if self._side is None:
            self._side = await Database.open(self.services.db.path, migrate=False)
            if self.timer is not None:
                self.timer.untimed.add(id(self._side.conn))
        async with self._side.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def count(self, sql: str, *params: Any) -> int:
        """A count the bench itself needs (see ``query``)."""
        row = await self.query(sql, *params)
        return int(row[0]) if row and row[0] is not None else 0

    async def close(self) -> None:
        if self._side is not None:
            await self._side.close()
            self._side = None

    _side: Any = None


Stage = Callable[[Run], Awaitable[None]]


def _ms(value: float) -> str:
    return f"{value:.1f}"


async def stage_changes(run: Run) -> None:
    """Publish (new), edit (moved and retitled) and pause 100 activities the way the bot's
    handlers do (the repository, then the directory told at once); then 100 changed by another
    process (the CLI import), found by the periodic check."""
    from storage.activities import ActivityRepository
    from storage.db import Database

    services, rng = run.services, run.rng
    repo: ActivityRepository = services.activities
    ids = sorted(services.directory.activities)
    applied: list[float] = []
    group = next(iter(services.directory.groups.values()))
    template = await repo.get(ids[0])
    assert template is not None
    data = _data_of(template, group.ref)
    for n in range(100):
        kind = n % 3
        if kind == 0:
            new = replace(
                data, ref=None, title=f"New activity {n}", lat=data.lat + rng.gauss(0, 0.1)
            )
            activity_id = await repo.create(new, group.id, 1, "published", run.clock)
        elif kind == 1:
            activity_id = rng.choice(ids)
            moved = replace(data, lat=51.3 + rng.random() * 2, lon=-2.5 + rng.random() * 2.5)
            await repo.update(activity_id, moved, run.clock)
        else:
            activity_id = rng.choice(ids)
            await repo.set_paused(activity_id, True, run.clock)
        start = time.perf_counter()
        await services.directory.refresh(force=True)
        applied.append((time.perf_counter() - start) * 1000)
    other = await Database.open(services.db.path)  # another process's connection
    try:
        other_repo = ActivityRepository(other)
        for _ in range(100):
            await other_repo.set_paused(rng.choice(ids), rng.random() < 0.5, run.clock)
        start = time.perf_counter()
        await services.directory.refresh()
        periodic = (time.perf_counter() - start) * 1000
    finally:
        await other.close()
    run.results["change_apply_ms"] = _ms(statistics.median(applied))
    run.results["change_apply_max_ms"] = _ms(max(applied))
    run.results["periodic_100_changes_ms"] = _ms(periodic)


def _data_of(activity: Any, group_ref: str) -> Any:
    from storage.models import ActivityData

    return ActivityData(
        ref=None, group_ref=group_ref, title=activity.title, category=activity.category,
        description=activity.description, venue=activity.venue, address=activity.address,
        postcode=activity.postcode, lat=activity.lat, lon=activity.lon,
        starts_at=activity.starts_at, duration_min=activity.duration_min, rrule=activity.rrule,
        until=activity.until, languages=activity.languages, cost=activity.cost,
        needs=activity.needs, contact=activity.contact,
    )  # fmt: skip


async def stage_reminders(run: Run) -> None:
    """The reminder planner's first run (everything looked at once), then a day of runs every
    minute (fast-forwarded: 15 minutes of clock between two)."""
    from bot.delivery.reminders import ReminderPlanner

    services = run.services
    planner = ReminderPlanner(
        services.reminders, services.outbox, services.directory, lambda: run.clock
    )
    start = time.perf_counter()
    planned = await planner.plan()
    first = time.perf_counter() - start
    runs = []
    for step in range(1, 97):
        run.clock = NOW + timedelta(minutes=15 * step)
        start = time.perf_counter()
        planned += await planner.plan()
        runs.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0)
    run.clock = NOW
    run.results["planner_first_s"] = f"{first:.2f}"
    run.results["planner_run_p95_ms"] = _ms(sorted(runs)[int(len(runs) * 0.95) - 1])
    run.results["reminders_planned"] = str(planned)


async def stage_search(run: Run) -> None:
    """Nearby search around London with the "no ID needed" filter: the p95 of 2,000."""
    directory = run.services.directory
    rng = random.Random(11)
    radius = 25 * 1.609344
    times = []
    for _ in range(2_000):
        lat, lon = LONDON[0] + rng.gauss(0, 0.05), LONDON[1] + rng.gauss(0, 0.07)
        # as the bot searches (handlers/find.py): the cells needed packed first, in slices
        await directory.ready_near(lat, lon, radius)
        start = time.perf_counter()
        directory.search(lat, lon, radius, run.clock, needs=frozenset({"no_id"}))
        times.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0)  # one search at a time, as the bot answers them
    times = times[200:]  # the first ones warm up
    run.results["search_p95_ms_london_needs"] = f"{sorted(times)[int(len(times) * 0.95)]:.2f}"


async def stage_day_of_changes(run: Run) -> None:
    """A day of changes: 2,000 activities edited, paused, resumed or hidden (by the bot and
    by imports), the directory following."""
    services, rng = run.services, run.rng
    repo = services.activities
    ids = sorted(services.directory.activities)
    for n in range(2_000):
        activity_id = rng.choice(ids)
        kind = n % 4
        if kind == 0:
            await repo.set_paused(activity_id, True, run.clock)
        elif kind == 1:
            await repo.set_paused(activity_id, False, run.clock)
        elif kind == 2:
            await repo.add_skip(
                activity_id, (run.clock + timedelta(days=rng.randrange(60))).date(), run.clock
            )
        else:
            await repo.confirm(activity_id, run.clock)
        if n % 10 == 0:
            await services.directory.refresh()
    await services.directory.refresh()


async def stage_digests(run: Run) -> None:
    """Monday 09:30: the minute's planning job as the bot runs it, the weekly digests to
    200,000 readers and the group chats' weekly posts included."""
    services = run.services
    services.clock = lambda: run.clock
    start = time.perf_counter()
    planned = await services.plan_reminders()
    run.results["digest_planning_s"] = f"{time.perf_counter() - start:.2f}"
    run.results["digest_rows"] = str(planned)


async def stage_campaign(run: Run) -> None:
    """A call to every supporter (350,000) confirmed by a coordinator, then paused and
    resumed, as ``/campaigns`` does (the desk queues, sets aside and puts back in chunks)."""
    services = run.services
    campaigns, desk = services.campaigns, services.desk
    call = await campaigns.create(1, run.clock)
    await campaigns.update(
        call.id, run.clock, title="Lift the ban", body="Ask your MP. " * 20,
        action_url="https://example.org/act", topics=1,
    )  # fmt: skip
    start = time.perf_counter()
    await desk.confirm(call.id, 1)
    run.results["campaign_launch_s"] = f"{time.perf_counter() - start:.2f}"
    start = time.perf_counter()
    await desk.pause(call.id, 1)
    run.results["campaign_pause_s"] = f"{time.perf_counter() - start:.2f}"
    start = time.perf_counter()
    await desk.resume(call.id, 1)
    run.results["campaign_resume_s"] = f"{time.perf_counter() - start:.2f}"
    run.results["campaign_queued"] = str(
        await run.count("SELECT COUNT(*) FROM outbox WHERE kind = 'campaign' AND state = 'pending'")
    )


SEND_RATE, ROUND_TRIP_S, WINDOW_S = 30.0, 0.1, 10.0
BENCH_GC = "bench_gc"  # the stage name while the bench itself collects garbage


async def _time_critical_due(run: Run, mark_sent: bool = False) -> int:
    """Time-critical rows due and not yet sent (marked sent if asked: the bench's doing)."""
    from storage.db import to_db
    from storage.outbox import TIME_CRITICAL

    where = "WHERE state IN ('pending', 'sending') AND lane = ? AND not_before <= ?"
    due = await run.count(f"SELECT COUNT(*) FROM outbox {where}", TIME_CRITICAL, to_db(run.clock))
    if mark_sent:  # sent a while ago: a sender starting now does not recall their chats
        await run.query(
            f"UPDATE outbox SET state = 'sent', updated_at = ? {where}",
            to_db(run.clock - timedelta(hours=1)),
            TIME_CRITICAL,
            to_db(run.clock),
        )
    return due


async def stage_sending(run: Run) -> None:
    """The bot's own sender (its renderers, lanes and in-flight sending) against a fake Bot
    API that enforces 30/s and answers every call 100 ms late, with the Monday digests and
    the call to 350,000 queued: the rate reached over ``WINDOW_S`` seconds of bulk, then a
    reminder due now (the clock stands still at Monday 09:30, so "due at 10:00" is "due
    when it is queued") and how long until it reaches Telegram."""
    from telegram import Bot

    from bot.delivery.transport import AiohttpRequest
    from storage.db import to_db
    from storage.outbox import OutboxItem
    from tests.fakeapi import FakeBotAPI

    services = run.services
    # The planner's first run (the reminders stage) queued every reminder whose moment had
    # passed but whose activity has not begun, due now: a running bot sends those as they
    # come, long before 10:00. They are marked sent here (sending them at 30/s would take
    # minutes), so the reminder below meets the bulk and only what is due with it.
    run.results["time_critical_backlog"] = str(await _time_critical_due(run, mark_sent=True))
    async with FakeBotAPI() as server:
        server.enforce_limits(
            per_second_total=SEND_RATE, per_chat_per_second=1, per_group_per_minute=20
        )
        server.round_trip_s = ROUND_TRIP_S
        async with Bot(  # as the application's bot: aiohttp for every call, getUpdates too
            "1:bench",
            base_url=server.base_url,
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        ) as bot:
            await services.start_sender(bot)
            try:
                await asyncio.sleep(2.0)  # bulk flowing
                await asyncio.sleep(WINDOW_S)
                times = sorted(c.at for c in server.calls_to("sendMessage") if c.status == 200)
                window = [t for t in times if t >= times[-1] - WINDOW_S]
                rate = (len(window) - 1) / (window[-1] - window[0])
                run.results["send_rate_at_100ms_rtt"] = f"{rate:.1f}"
                row = await run.query(
                    "SELECT chat_id, payload FROM outbox WHERE kind = 'reminder' "
                    "AND state = 'pending' AND not_before > ? ORDER BY not_before DESC LIMIT 1",
                    to_db(run.clock),
                )
                assert row is not None, "the reminder stage planned no later reminder"
                chat = int(row[0])
                payload = json.loads(row[1])
                ahead = await run.count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
                due_first = await _time_critical_due(run)
                start = time.monotonic()
                await services.outbox.enqueue(
                    [OutboxItem("reminder", "bench:10:00", chat, payload, run.clock)],
                    run.clock,
                )
                assert services.sender is not None
                services.sender.wake()
                delay = math.nan
                while time.monotonic() - start < 600:
                    arrived = [
                        c.at
                        for c in server.calls_to("sendMessage")
                        if c.chat_id == chat and c.at >= start and c.status == 200
                    ]
                    if arrived:
                        delay = arrived[0] - start
                        break
                    await asyncio.sleep(0.01)
            finally:
                await services.stop_sender()
        run.results["reminder_delay_s"] = f"{delay:.2f}"
        run.results["queued_ahead_of_reminder"] = str(ahead)
        run.results["time_critical_due_ahead"] = str(due_first)
        row = await run.query("SELECT state, error FROM outbox WHERE subject = 'bench:10:00'")
        run.results["reminder_row"] = json.dumps(":".join(map(str, row or ())))
        run.results["send_violations"] = str(server.violations)
        run.results["in_flight_peak"] = str(server.in_flight_peak)


async def stage_retention(run: Run) -> None:
    """Retention's run as the daily job does it: the long-silent asked, the unanswered
    forgotten (their rows found through indexes), old outbox rows purged in chunks."""
    start = time.perf_counter()
    report = await run.services.run_retention()
    run.results["retention_s"] = f"{time.perf_counter() - start:.2f}"
    run.results["retention_forgotten"] = str(len(report.forgotten))
    run.results["retention_asked"] = str(report.asked)
    run.results["retention_purged"] = str(report.messages_purged)


# Every stage runs under the loop monitor and the transaction timer: max_loop_lag_ms and
# max_txn_ms are the worst over all of them.
STAGES: list[tuple[str, Stage]] = [
    ("changes", stage_changes),
    ("reminders", stage_reminders),
    ("digests", stage_digests),
    ("campaign", stage_campaign),
    ("retention", stage_retention),
    ("search", stage_search),
    ("day", stage_day_of_changes),
    # last: the fake Bot API runs in this process, and what it records is not the bot's memory
    ("sending", stage_sending),
]
KEYS = [
    "rss_start_mb",
    "rss_after_changes_mb",
    "start_s",
    "change_apply_ms",
    "max_loop_lag_ms",
    "max_txn_ms",
    "search_p95_ms_london_needs",
    "find_ratio_to_10k",
    "reminder_delay_s",
    "send_rate_at_100ms_rtt",
    "campaign_launch_lag_ms",
    "retention_lag_ms",
]


@contextlib.contextmanager
def _copy_of(path: Path) -> Iterator[Path]:
    """A copy of the data set to change (the cached one stays as built)."""
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        target = Path(tmp) / path.name
        shutil.copyfile(path, target)
        with target.open("rb+") as copied:  # written out now, not by the first commit timed
            os.fsync(copied.fileno())
        yield target


async def _start(db_path: Path, gazetteer: Any, send_rate: float = 30.0) -> Any:
    from bot.config import Config
    from bot.services import Services

    config = Config("1:bench", "http://127.0.0.1:9/bot", db_path, CACHE, None, send_rate=send_rate)
    return await Services.create(config, gazetteer=gazetteer, clock=lambda: NOW)


async def measure(seed: int, size: Size, chosen: set[str] | None = None) -> dict[str, str]:
    """Start on the national data set and run the stages (those ``chosen``, if named)."""
    from bot.i18n import load_catalogs

    load_catalogs()
    national = ensure(seed, size)
    results: dict[str, str] = {}
    timer = DbTimer()
    with _copy_of(national) as path:
        from bot.places.gazetteer import Gazetteer

        gazetteer = Gazetteer.load(CACHE)  # a restart reads the cache; not timed here
        gc.collect()
        results["rss_base_mb"] = f"{rss_mb():.0f}"  # the bot's code and places, no data
        monitor = LoopMonitor()
        monitor.start()
        gc_started: list[float] = []

        def gc_timed(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_started[:] = [time.perf_counter()]
            elif gc_started:
                ms = (time.perf_counter() - gc_started[0]) * 1000
                key = f"gc_{monitor.stage}_ms"
                if ms > float(results.get(key, "0")):
                    results[key] = _ms(ms)

        gc.callbacks.append(gc_timed)
        timer.install()
        try:
            started = time.perf_counter()
            services = await _start(path, gazetteer)
            results["start_s"] = f"{time.perf_counter() - started:.2f}"
            monitor.stage = BENCH_GC  # the bench's own collections are not the bot's freezes
            gc.collect()
            results["rss_start_mb"] = f"{rss_mb():.0f}"
            run = Run(services, size, random.Random(seed), monitor, results, timer=timer)
            for name, stage in STAGES:
                if chosen is not None and name not in chosen:
                    continue
                if name == "sending":  # the fake Bot API's code is the bench's: loaded untimed
                    monitor.stage = BENCH_GC
                    import tests.fakeapi  # noqa: F401

                    await asyncio.sleep(0.01)  # the monitor wakes: the freeze is noted as such
                monitor.stage = timer.stage = name
                await stage(run)
                await asyncio.sleep(0.01)
                if name == "day":  # a day of changes done (and everything before it)
                    monitor.stage = BENCH_GC
                    gc.collect()
                    results["rss_after_changes_mb"] = f"{rss_mb():.0f}"
                results[f"rss_after_{name}_mb"] = f"{rss_mb():.0f}"
            await run.close()
            results["campaign_launch_lag_ms"] = _ms(monitor.worst.get("campaign", math.nan))
            results["retention_lag_ms"] = _ms(monitor.worst.get("retention", math.nan))
            await services.close()
        finally:
            gc.callbacks.remove(gc_timed)
            timer.uninstall()
            await monitor.stop()
        results["max_loop_lag_ms"] = _ms(max(v for k, v in monitor.worst.items() if k != BENCH_GC))
        results["max_loop_busy_ms"] = _ms(
            max(v for k, v in monitor.worst_cpu.items() if k != BENCH_GC)
        )
        for name, worst in monitor.worst.items():
            results[f"lag_{name}_ms"] = _ms(worst)
            results[f"busy_{name}_ms"] = _ms(monitor.worst_cpu.get(name, math.nan))
        results["max_txn_ms"] = _ms(timer.worst_ms)
        results["max_txn_what"] = json.dumps(timer.worst_what)
        for name, (worst, what) in timer.by_stage.items():
            results[f"txn_{name}_ms"] = _ms(worst)
            results[f"txn_{name}_what"] = json.dumps(what)
    return results


async def _find_rate(services: Any, updates: int, seed: int) -> float:
    """'Find near me' updates a second through the whole bot, everyone new (each a first
    message from someone the bot has not seen), against the fake Bot API."""
    from bot.app import TrackingUpdateProcessor, build_app, running
    from tests.fakeapi import FakeBotAPI

    async with FakeBotAPI() as server:
        processor = TrackingUpdateProcessor()
        config = replace(services.config, api_url=server.base_url)
        app = build_app(config, services=services, processor=processor)
        rng = random.Random(seed)
        cities = [(51.507, -0.128), (52.486, -1.890), (53.481, -2.242), (53.800, -1.549),
                  (55.864, -4.252), (51.455, -2.588), (54.978, -1.617)]  # fmt: skip

        def send(first_id: int) -> int:
            last = 0
            for i in range(updates):
                lat, lon = rng.choice(cities)
                user = server.user(first_id + i, language_code="en")
                last = user.send_location(lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.07))
            return last

        async with running(app):
            assert app.job_queue is not None
            for job in app.job_queue.jobs():  # "find near me" alone: no planner, no retention
                job.schedule_removal()
            await processor.wait_processed(send(5_000_000), limit_s=600)  # warm up
            last = send(6_000_000)
            gc.collect()
            start = time.perf_counter()
            await processor.wait_processed(last, limit_s=600)
            return updates / (time.perf_counter() - start)


async def find_ratio(seed: int, size: Size, updates: int, rounds: int) -> dict[str, str]:
    """'Find near me' at national scale against the 10k baseline, taking turns."""
    from bot.places.gazetteer import Gazetteer

    national, baseline = ensure(seed, size), ensure(seed, size.tenth())
    rates: dict[str, list[float]] = {"national": [], "tenth": []}
    gazetteer = Gazetteer.load(CACHE)
    with _copy_of(national) as big, _copy_of(baseline) as small:
        started = {
            "national": await _start(big, gazetteer, CAPACITY_SEND_RATE),
            "tenth": await _start(small, gazetteer, CAPACITY_SEND_RATE),
        }
        try:
            for round_ in range(rounds):
                order = ["national", "tenth"] if round_ % 2 == 0 else ["tenth", "national"]
                for name in order:
                    rates[name].append(
                        await _find_rate(started[name], updates, seed * 100 + round_)
                    )
        finally:
            for services in started.values():
                await services.close()
    ratios = [a / b for a, b in zip(rates["national"], rates["tenth"], strict=True)]
    return {
        "find_ratio_to_10k": f"{statistics.median(ratios):.2f}",
        "find_per_s_national": f"{statistics.median(rates['national']):.0f}",
        "find_per_s_10k": f"{statistics.median(rates['tenth']):.0f}",
    }


def main(argv: list[str]) -> int:
    """``python -m bench scale [--seed N] [--activities N] ...``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench scale")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--activities", type=int, default=Size.activities)
    parser.add_argument("--people", type=int, default=Size.people)
    parser.add_argument("--groups", type=int, default=Size.groups)
    parser.add_argument("--reminders", type=int, default=Size.reminders)
    parser.add_argument("--digest-readers", type=int, default=Size.digest_readers)
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--stages", default=None,
        help="run only these stages, comma-separated, in their usual order ('find': the "
        "find-near-me ratio); a stage may need one before it (sending: reminders)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    size = Size(args.people, args.activities, args.groups, args.reminders, args.digest_readers)
    if args.build is not None:
        asyncio.run(build(args.build, args.seed, size))
        return 0
    ensure(args.seed, size)
    ensure(args.seed, size.tenth())
    chosen = set(args.stages.split(",")) if args.stages else None
    results = asyncio.run(measure(args.seed, size, chosen))
    if chosen is None or "find" in chosen:
        results.update(asyncio.run(find_ratio(args.seed, size, args.updates, args.rounds)))
    keys = KEYS + [k for k in results if k not in KEYS]
    cpu = os.getloadavg()[0]
    print(
        f"BENCH name=scale seed={args.seed} activities={size.activities} people={size.people} "
        + " ".join(f"{k}={results.get(k, 'na')}" for k in keys)
        + f" load_avg_1m={cpu:.1f} goal_rss_mb=200 goal_start_s=3 goal_change_apply_ms=20 "
        "goal_max_loop_lag_ms=100 goal_max_txn_ms=100 goal_search_p95_ms=3 goal_find_ratio=0.9"
    )
    return 0
