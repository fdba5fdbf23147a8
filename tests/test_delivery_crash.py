"""kill -9 the sender at random moments: nothing is lost, at most one duplicate per message
in flight, and each chat's 1 s gap is kept across the restarts (issue 22 item 13).

The kill moments come from a random seed, printed; ``DELIVERY_CRASH_SEED=N`` replays one."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

from bot.delivery.outbox import IN_FLIGHT
from bot.i18n import N_
from storage.db import Database
from storage.outbox import OutboxItem, OutboxRepository
from tests import engines
from tests.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
NOTICE = N_("This menu has expired. Please start again with /start.")
RECIPIENTS = 150
KILLS = 4


async def _deliver(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.commands",
        "deliver",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_kill_nine_loses_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.db"
    db = await Database.open(db_path)
    outbox = OutboxRepository(db)
    await outbox.enqueue(  # two messages each: the second waits for the first's gap
        OutboxItem("notice", subject, chat, {"message": NOTICE})
        for subject in ("crash", "again")
        for chat in range(1, RECIPIENTS + 1)
    )
    await db.close()
    seed = int(os.environ.get("DELIVERY_CRASH_SEED") or int.from_bytes(os.urandom(4), "big"))
    print(f"DELIVERY_CRASH_SEED={seed}")
    rng = random.Random(seed)
    async with FakeBotAPI() as server:
        server.enforce_limits(per_second_total=200, per_chat_per_second=1, per_group_per_minute=20)
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": "123456:CRASH-test",
            "TELEGRAM_API_URL": server.base_url,
            "SANCTUARY_DB": await engines.target(db_path),
            "SANCTUARY_SEND_RATE": "200",
        }
        kills = 0
        for _ in range(KILLS):
            before = len(server.calls_to("sendMessage"))
            process = await _deliver(env)
            # Wait until it is sending, then kill it at a random moment.
            for _ in range(400):
                if len(server.calls_to("sendMessage")) > before:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(rng.uniform(0.0, 0.15))
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            await process.wait()
        final = await _deliver(env)
        _out, err = await asyncio.wait_for(final.communicate(), timeout=60)
        assert final.returncode == 0, err.decode()
        received = Counter(
            m.chat_id for chat in range(1, RECIPIENTS + 1) for m in server.messages(chat)
        )
    assert kills >= KILLS - 1, f"seed {seed}"  # the runs were really interrupted
    assert set(received) == set(range(1, RECIPIENTS + 1)), f"seed {seed}"  # nothing lost
    assert min(received.values()) >= 2, f"seed {seed}"
    duplicates = sum(n - 2 for n in received.values())
    assert duplicates <= kills * IN_FLIGHT, f"seed {seed}"  # only messages in flight, once
    assert server.violations == 0, f"seed {seed}: {server.violation_log[:3]}"
    db = await Database.open(db_path)
    try:
        assert await OutboxRepository(db).counts() == {"sent": 2 * RECIPIENTS}
    finally:
        await db.close()
