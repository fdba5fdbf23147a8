"""What must keep working when something around the bot goes wrong: the `deliver` command,
an update python-telegram-bot cannot read, commands sent by nobody in particular."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.domain.campaigns import CampaignDesk
from storage.alerts import AlertRepository
from storage.campaigns import CampaignRepository
from storage.db import Database, to_db, utcnow
from storage.roles import ADMIN, RoleRepository
from tests import engines
from tests.conftest import Harness
from tests.fakeapi import FakeBotAPI
from tests.helpers import only, tr

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
            "SANCTUARY_DB": await engines.target(db_path),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.commands", "deliver", cwd=ROOT, env=env,
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


GROUP_CHAT = -1001234567890


def _anonymous_command(bot: Harness, text: str, sender_chat: bool) -> int:
    """A command in the group chat with no person as its sender: sent as the group by an
    anonymous admin (``sender_chat``), or with no sender at all."""
    someone = bot.chat(6009).user
    someone.send_text("hello", GROUP_CHAT)  # a message id the fake server knows
    chat = {"id": GROUP_CHAT, "type": "supergroup", "title": "Leeds welcome"}
    message: dict[str, object] = {
        "message_id": someone.last_message_id,
        "chat": chat,
        "date": int(utcnow().timestamp()),
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    if sender_chat:
        message["sender_chat"] = chat
        message["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    return bot.server.queue_update({"message": message})


async def test_weekly_without_a_person_sending_it_says_so(bot: Harness) -> None:
    await bot.services.roles.grant(
        6001, ADMIN, (await bot.services.groups.refs())["leeds"], None, utcnow()
    )
    for sender_chat in (False, True):
        mark = bot.server.mark()
        await bot.processor.wait_processed(_anonymous_command(bot, "/weekly on leeds", sender_chat))
        (answer,) = bot.server.messages_since(GROUP_CHAT, mark)
        assert answer.plain_text() == tr(
            "en",
            "I can't tell who sent this, so I can't check that you are a group admin. "
            "Please send /weekly from your own account, not as the group or a channel.",
        )
    assert await bot.row("SELECT COUNT(*) FROM group_chats") == (0,)


async def test_weekly_off_where_nothing_is_linked_says_so(bot: Harness) -> None:
    bot.chat(6001)
    user = bot.chats[6001].user
    mark = bot.server.mark()
    await bot.processor.wait_processed(user.send_text("/weekly off", GROUP_CHAT))
    (answer,) = bot.server.messages_since(GROUP_CHAT, mark)
    assert answer.plain_text() == (
        "There is no weekly post in this chat, so there is nothing to switch off."
    )
    assert "no longer post" not in answer.plain_text()


async def test_an_update_that_cannot_be_read_is_skipped_once_and_the_rest_answered(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    chat = bot.chat(7001)
    poll = {
        "id": "5001",
        "question": "SECRET question?",
        # Without persistent_id, which python-telegram-bot 22.8 requires: it cannot read it.
        "options": [{"text": "SECRET yes", "voter_count": 0}, {"text": "no", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
    message = {
        "message_id": 1,
        "from": chat.user.to_dict(),
        "chat": {"id": 7001, "type": "private", "first_name": "Test"},
        "date": int(utcnow().timestamp()),
        "poll": poll,
    }
    with caplog.at_level(logging.INFO):  # as the bot logs
        bad = bot.server.queue_update({"message": message})
        answer = only(await chat.send("/help"))  # queued after it, in the same batch
        await bot.server.wait_confirmed(bad)
        assert "/find" in answer.plain_text()
        again = only(await chat.send("/help"))  # and the bot carries on
        assert again.plain_text() == answer.plain_text()
    said = [r for r in caplog.records if f"update {bad} " in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING
    assert "persistent_id" in said[0].getMessage()
    assert not [r for r in caplog.records if "SECRET" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_ctrl_c_ends_the_console_demo_at_once_and_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {"SANCTUARY_DB": str(tmp_path / "demo.db"), "SANCTUARY_CACHE_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.commands", "console", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    shown = b""
    while b"you> " not in shown:  # the demo waits for a line (stdin stays open: no Enter)
        chunk = await asyncio.wait_for(process.stdout.read(4096), timeout=120)
        assert chunk, shown.decode()
        shown += chunk
    process.send_signal(signal.SIGINT)
    try:  # a hang guard, not a timing: before the fix it waited for Enter for ever
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
    assert "Traceback" not in err.decode(), err.decode()
    assert out.decode().strip().endswith("bye")
    assert process.returncode == 130
