"""What must keep working when something around the bot goes wrong: the `deliver` command,
an update python-telegram-bot cannot read, commands sent by nobody in particular."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.campaigns import CampaignDesk
from bot.fakeapi import FakeBotAPI
from storage.alerts import AlertRepository
from storage.campaigns import CampaignRepository
from storage.db import Database, to_db, utcnow
from storage.roles import RoleRepository

ROOT = Path(__file__).resolve().parents[1]
SUPPORTERS = 4


async def _launched_call(db_path: Path) -> None:
    """A call confirmed to SUPPORTERS supporters: its messages wait in the outbox."""
    db = await Database.open(db_path)
    try:
        now = utcnow()
        stamp = to_db(now)
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO users (id, locale, intent, created_at, updated_at) "
                "VALUES (?, ?, 'supporter', ?, ?)",
                [(i, ("en", "ar")[i % 2], stamp, stamp) for i in range(1, SUPPORTERS + 1)],
            )
            await conn.executemany(
                "INSERT INTO alert_subs (user_id, topics, areas, created_at, updated_at) "
                "VALUES (?, 63, 7, ?, ?)",
                [(i, stamp, stamp) for i in range(1, SUPPORTERS + 1)],
            )
        campaigns = CampaignRepository(db)
        call = await campaigns.create(1, now)
        await campaigns.update(
            call.id, now, title="Lift the ban", body="Ask your MP to lift the ban.",
            action_url="https://example.org/act", topics=1,
        )  # fmt: skip
        desk = CampaignDesk(
            campaigns, AlertRepository(db), RoleRepository(db), lambda _a, _b: "", utcnow,
            lambda: None,
        )  # fmt: skip
        assert await desk.confirm(call.id, 1) == "sending"
    finally:
        await db.close()


async def test_deliver_sends_campaign_calls_and_says_what_it_sent(tmp_path: Path) -> None:
    db_path = tmp_path / "deliver.db"
    await _launched_call(db_path)
    async with FakeBotAPI() as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": "123456:DELIVER-test",
            "TELEGRAM_API_URL": server.base_url,
            "SANCTUARY_DB": str(db_path),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "deliver", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, err.decode()
        for chat in range(1, SUPPORTERS + 1):
            (message,) = server.messages(chat)
            assert "Lift the ban" in message.plain_text()
    printed = out.decode()
    assert f"sent {SUPPORTERS}, failed 0, blocked 0" in printed, printed
    db = await Database.open(db_path)
    try:
        async with db.conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("sent", SUPPORTERS)]
    finally:
        await db.close()
