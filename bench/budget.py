"""``BENCH name=send_budget``: what one send budget costs a message (bot/delivery/budget.py).

On PostgreSQL a message takes its slot in one round trip (``take_send_slot``) before it goes,
and a person's message one more after Telegram's answer (``landed``): both timed here, one
after the other as a reply makes them, on the throwaway server (.ci/postgresql), with the
machine's other load. On SQLite the budget is the process's own limiter: no database at all.
Spread over many chats so that no chat's gap or the 30/s grid makes a call wait (the rate is
set high): the figures are the calls' own cost."""

from __future__ import annotations

import asyncio
import os
import time

from bench.instances import _postgresql


async def _budget(messages: int) -> dict[str, float]:
    import asyncpg

    from bot.delivery.budget import SharedBudget
    from storage.budget import SendBudgetRepository
    from storage.db import Database

    server = await asyncio.to_thread(_postgresql)
    name = f"sanctuary_bench_budget_{os.getpid()}"
    admin = await asyncpg.connect(server)
    await admin.execute(f"DROP DATABASE IF EXISTS {name}")
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        db = await Database.open(server.rsplit("/", 1)[0] + "/" + name)
        try:
            budget = SharedBudget(SendBudgetRepository(db), per_second=1e6)
            takes: list[float] = []
            lands: list[float] = []
            for n in range(messages):
                chat = 1_000_000 + n
                start = time.perf_counter()
                await budget.take(chat, bulk=False)
                taken = time.perf_counter()
                await budget.landed(chat)
                takes.append(taken - start)
                lands.append(time.perf_counter() - taken)
        finally:
            await db.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
    takes.sort()
    lands.sort()
    return {
        "take_p50": takes[len(takes) // 2] * 1000,
        "take_p95": takes[int(len(takes) * 0.95)] * 1000,
        "landed_p50": lands[len(lands) // 2] * 1000,
        "landed_p95": lands[int(len(lands) * 0.95)] * 1000,
    }


def bench_budget(messages: int = 2_000) -> None:
    """Print the shared budget's cost per message, in milliseconds."""
    r = asyncio.run(_budget(messages))
    print(
        f"BENCH name=send_budget engine=postgresql messages={messages} "
        f"take_ms_p50={r['take_p50']:.2f} take_ms_p95={r['take_p95']:.2f} "
        f"landed_ms_p50={r['landed_p50']:.2f} landed_ms_p95={r['landed_p95']:.2f}"
    )
