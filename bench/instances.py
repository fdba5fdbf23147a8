"""``BENCH name=instances``: "find near me" updates per second through 1, 2 and 3 `sanctuary-bot
run` processes on one PostgreSQL database behind a round-robin front, and through one on
SQLite, in the same run. The fake Telegram runs in a process of its own (bench/fake_telegram.py),
the front in this one; every process shares the machine's cores with the database server."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
LEEDS = (53.800, -1.549)  # the seeded test activities are around Leeds
SECRET = "bench-secret"


def _postgresql() -> str:
    """The throwaway server's URL (.ci/postgresql starts it when it is not running)."""
    script = ROOT / ".ci" / "postgresql"
    return subprocess.run([script], capture_output=True, text=True, check=True).stdout.strip()


def _busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores; Linux's /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user and system) these processes have used."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _front(targets: list[str]) -> tuple[web.AppRunner, str]:
    """Each update to the next instance in turn (a reverse proxy's upstreams)."""
    turn = itertools.count()
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": request.headers.get(
                "X-Telegram-Bot-Api-Secret-Token", ""
            ),
            "Content-Type": "application/json",
        }
        target = targets[next(turn) % len(targets)]
        async with session.post(target, data=body, headers=headers) as answer:
            return web.Response(status=answer.status)

    async def close(_app: web.Application) -> None:
        await session.close()

    app = web.Application()
    app.router.add_post("/hook", forward)
    app.on_cleanup.append(close)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/hook"


async def _database(kind: str, folder: Path) -> str:
    """A new, seeded database: a SQLite file, or a database on the throwaway PostgreSQL."""
    from storage.db import Database
    from tests.conftest import seed_test_data

    if kind == "sqlite":
        target = str(folder / "bot.db")
    else:
        import asyncpg

        server = await asyncio.to_thread(_postgresql)
        name = f"sanctuary_bench_{os.getpid()}_{time.monotonic_ns()}"
        conn = await asyncpg.connect(server)
        await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()
        target = server.rsplit("/", 1)[0] + "/" + name
    db = await Database.open(target)
    await seed_test_data(db)
    await db.close()
    return target


async def _ready(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(3000):
            if proc.returncode is not None:
                raise RuntimeError(f"an instance stopped:\n{_tail(log)}")
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"an instance did not get ready:\n{_tail(log)}")


async def _run(kind: str, count: int, updates: int, cache: Path) -> tuple[float, float, float]:
    """Updates per second through ``count`` instances on a new database of ``kind``, and
    the cores busy meanwhile: on the whole machine, and in the instances alone."""
    from bench.fake_telegram import fake_telegram

    loop = asyncio.get_running_loop()
    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.get_context("spawn").Process(
        target=fake_telegram, args=(child, updates), daemon=True
    )
    fake.start()
    child.close()
    procs: list[asyncio.subprocess.Process] = []
    runner: web.AppRunner | None = None
    try:
        api = await loop.run_in_executor(None, parent.recv)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            target = await _database(kind, folder)
            targets: list[str] = []
            runner, front = await _front(targets)
            base = {k: v for k, v in os.environ.items() if not k.startswith("SANCTUARY_")}
            for n in range(count):
                port = _free_port()
                targets.append(f"http://127.0.0.1:{port}/hook")
                log = folder / f"web-{n}.log"
                env = base | {
                    "TELEGRAM_BOT_TOKEN": "1:bench",
                    "TELEGRAM_API_URL": f"http://127.0.0.1:{api}/bot",
                    "SANCTUARY_DB": target,
                    # as CAPACITY_SEND_RATE, within what the setting takes (1000 at most)
                    "SANCTUARY_SEND_RATE": "1000",
                    "SANCTUARY_CACHE_DIR": str(cache),
                    "SANCTUARY_LISTEN": f"127.0.0.1:{port}",
                    "SANCTUARY_INSTANCE": f"web-{n}",
                    "SANCTUARY_WEBHOOK_URL": front,
                    "SANCTUARY_WEBHOOK_SECRET": SECRET,
                }
                with log.open("ab") as out:
                    procs.append(
                        await asyncio.create_subprocess_exec(
                            sys.executable,
                            "-m",
                            "bot.cli.commands",
                            "run",
                            env=env,
                            cwd=ROOT,
                            stdout=out,
                            stderr=out,
                        )
                    )
                await _ready(port, procs[-1], log)
            elapsed = busy = mine = 0.0
            pids = [proc.pid for proc in procs]
            for seed in (4, 3):  # the first round warms every instance up
                rng = random.Random(seed)
                places = [
                    (LEEDS[0] + rng.gauss(0, 0.05), LEEDS[1] + rng.gauss(0, 0.07))
                    for _ in range(updates)
                ]
                busy, mine = _busy_s(), _cpu_s(pids)
                parent.send(("run", places))
                elapsed, _delays = await loop.run_in_executor(None, parent.recv)
                busy, mine = _busy_s() - busy, _cpu_s(pids) - mine
            for proc in procs:
                proc.terminate()
            for proc in procs:
                await proc.wait()
        parent.send(("stop",))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
        if runner is not None:
            await runner.cleanup()
        fake.join(timeout=10)
        if fake.is_alive():
            fake.kill()
    return updates / elapsed, busy / elapsed, mine / elapsed


def bench_instances(updates: int, cache: Path) -> None:
    """Print the figures, the cores busy in each run (``*_busy_cores``: the whole machine;
    ``*_bot_cores``: the instances alone; the rest is PostgreSQL, the fake Telegram and the
    front), and the load average they were taken under."""
    runs = [("postgresql", 1), ("postgresql", 2), ("postgresql", 3), ("sqlite", 1)]
    figures = {f"{k}_{n}": asyncio.run(_run(k, n, updates, cache)) for k, n in runs}
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    three = figures["postgresql_3"]
    # What limits it: the machine's cores, when they were all busy with three instances (the
    # instances' share beside what PostgreSQL, the fake Telegram and the front took).
    limit = "cores" if three[1] >= 0.9 * cores else "waiting (neither the cores nor the bot)"
    print(
        f"BENCH name=instances updates={updates} cores={os.cpu_count()} "
        + " ".join(f"{key}_per_s={rate:.0f}" for key, (rate, _b, _m) in figures.items())
        + f" ratio_3_to_1={figures['postgresql_3'][0] / figures['postgresql_1'][0]:.2f} "
        + " ".join(f"{key}_busy_cores={busy:.2f}" for key, (_r, busy, _m) in figures.items())
        + " "
        + " ".join(f"{key}_bot_cores={mine:.2f}" for key, (_r, _b, mine) in figures.items())
        + f" limited_by={limit} load_1min={load:.2f}"
    )
