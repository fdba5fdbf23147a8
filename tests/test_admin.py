"""Roles from the command line, the audit log, and /weekly in a group's Telegram chat."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import commands as cli
from storage.db import Database
from storage.roles import ADMIN, COORDINATOR, NETWORK, RoleRepository
from tests.conftest import Harness, seed_test_data
from tests.helpers import last_callback_answer, only, sent, tr

GROUP_CHAT = -1001234567890  # a supergroup
OTHER_CHAT = -4242


def _seeded(tmp_path: Path) -> Path:
    path = tmp_path / "roles.db"

    async def seed() -> None:
        db = await Database.open(path)
        await seed_test_data(db)
        await db.close()

    asyncio.run(seed())
    return path


@pytest.mark.sqlite_only  # reads the file behind the command line
def test_cli_grants_and_revokes_roles_with_an_audit_trail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _seeded(tmp_path)
    monkeypatch.setenv("SANCTUARY_DB", str(path))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert cli.main(["grant", "coordinator", "5001"]) == 0
    assert cli.main(["grant", "admin", "5002", "--group", "leeds"]) == 0
    assert cli.main(["grant", "admin", "5002", "--group", "leeds"]) == 0  # nothing to do
    assert "already has" in capsys.readouterr().out
    assert cli.main(["grant", "admin", "5003"]) == 2
    assert "admin needs --group REF" in capsys.readouterr().err
    assert cli.main(["grant", "admin", "5003", "--group", "atlantis"]) == 2
    assert "no group with reference 'atlantis'" in capsys.readouterr().err
    assert cli.main(["grant", "coordinator", "5003", "--group", "leeds"]) == 2
    assert cli.main(["revoke", "coordinator", "5001"]) == 0
    with sqlite3.connect(path) as conn:
        roles = conn.execute("SELECT user_id, role FROM roles ORDER BY user_id").fetchall()
        audit = conn.execute("SELECT actor, action, target, detail FROM audit_log").fetchall()
    assert roles == [(5002, "admin")]
    assert audit == [
        (None, "grant", 5001, "coordinator"),
        (None, "grant", 5002, "admin"),
        (None, "revoke", 5001, "coordinator"),
    ]
    capsys.readouterr()
    assert cli.main(["audit", "--limit", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and "revoke" in printed[0] and "target=5001" in printed[0]


async def _grant(bot: Harness, user_id: int, role: str, ref: str | None = None) -> None:
    refs = await bot.services.groups.refs()
    group = refs[ref] if ref else NETWORK
    await bot.services.roles.grant(user_id, role, group, None, datetime.now(UTC))


async def _in_group(bot: Harness, user_id: int, text: str, chat_id: int = GROUP_CHAT) -> str:
    bot.chat(user_id)  # registers the user with the fake server
    user = bot.chats[user_id].user
    mark = bot.server.mark()
    await bot.processor.wait_processed(user.send_text(text, chat_id))
    sent = bot.server.messages_since(chat_id, mark)
    assert len(sent) == 1, [m.text for m in sent]
    return sent[0].plain_text()


async def test_weekly_on_in_a_group_chat_posts_the_week_every_monday(bot: Harness) -> None:
    await _grant(bot, 6001, ADMIN, "leeds")
    admin = bot.chat(6001)
    mark = bot.server.mark()
    await bot.processor.wait_processed(admin.user.add_bot_to(GROUP_CHAT))
    hello = bot.server.messages_since(GROUP_CHAT, mark)
    assert "/weekly on" in hello[0].plain_text()

    answer = await _in_group(bot, 6001, "/weekly on")
    assert "Every Monday morning I will post the week's activities of Leeds" in answer
    assert await bot.row("SELECT group_id, weekly FROM group_chats WHERE chat_id = ?", GROUP_CHAT)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)  # Monday 09:00
    assert await services.plan_reminders() == 1
    assert await services.plan_reminders() == 0  # once a week
    text = (await sent(bot.server, GROUP_CHAT, "This week at"))[0].plain_text()
    assert "This week at Leeds City of Sanctuary (test)" in text
    assert "Conversation café" in text and "Tue 1 Dec, 18:00" in text
    assert "Sheffield" not in text and "Student welcome tea" not in text  # other groups
    assert "Summer picnic" not in text  # long past

    off = await _in_group(bot, 6001, "/weekly off")
    assert "no longer post" in off
    assert await bot.row("SELECT weekly FROM group_chats WHERE chat_id = ?", GROUP_CHAT) == (0,)
    actions = [e.action for e in await services.roles.audit()]
    assert actions[:2] == ["weekly_off", "weekly_on"]


async def test_weekly_on_shows_a_group_name_with_an_ampersand_as_written(bot: Harness) -> None:
    """The reply is HTML, so the escaped name reads "Leeds & Bradford", never "&amp;"."""
    async with bot.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE groups SET name = 'Leeds & Bradford <North>' WHERE ref = 'leeds'"
        )
    await bot.services.directory.refresh(force=True)
    await _grant(bot, 6003, ADMIN, "leeds")
    answer = await _in_group(bot, 6003, "/weekly on")
    assert "activities of Leeds & Bradford <North> here" in answer


async def test_weekly_is_refused_to_anyone_without_the_role(bot: Harness) -> None:
    await _grant(bot, 6002, ADMIN, "leeds")
    assert "Only an admin" in await _in_group(bot, 6003, "/weekly on")
    assert "Only an admin" in await _in_group(bot, 6003, "/weekly on leeds")
    # An admin of Leeds cannot switch on another group's post.
    assert "Only an admin" in await _in_group(bot, 6002, "/weekly on sheffield")
    assert await bot.row("SELECT COUNT(*) FROM group_chats") == (0,)
    # ...nor switch off a chat linked to another group, once a coordinator linked it.
    await _grant(bot, 6004, COORDINATOR)
    which = await _in_group(bot, 6004, "/weekly on", OTHER_CHAT)
    assert "Which group?" in which and "sheffield" in which
    assert "Which group?" in await _in_group(bot, 6004, "/weekly on atlantis", OTHER_CHAT)
    assert "Sheffield" in await _in_group(bot, 6004, "/weekly on sheffield", OTHER_CHAT)
    assert "Only an admin" in await _in_group(bot, 6002, "/weekly off", OTHER_CHAT)
    assert await bot.row("SELECT weekly FROM group_chats WHERE chat_id = ?", OTHER_CHAT) == (1,)
    # A removed admin's command is refused too: roles are read every time.
    await bot.services.roles.revoke(
        6002, ADMIN, (await bot.services.groups.refs())["leeds"], None, datetime.now(UTC)
    )
    assert "Only an admin" in await _in_group(bot, 6002, "/weekly on")
    refused = [e for e in await bot.services.roles.audit() if e.action == "refused"]
    assert len(refused) == 5 and all(e.detail == "weekly" for e in refused)


async def test_weekly_usage_in_private_and_in_arabic(bot: Harness) -> None:
    chat = bot.chat(6005, "ar")
    answer = await chat.send("/weekly on")
    assert (
        tr("ar", "Send /weekly on or /weekly off in your group's Telegram chat.")
        in answer[0].plain_text()
    )
    refusal = await _in_group(bot, 6005, "/weekly on")
    assert refusal == tr(
        "ar",
        "Only an admin of a City of Sanctuary group can do this. Ask your group's coordinator.",
    )
    # HTML like every reply: the views escape what they insert (a group's name with "&").
    assert bot.server.calls_to("sendMessage")[-1].params["parse_mode"] == "HTML"


async def test_forget_removes_roles_and_anonymises_the_audit_log(bot: Harness) -> None:
    await _grant(bot, 6006, ADMIN, "leeds")
    await _in_group(bot, 6006, "/weekly on")
    chat = bot.chat(6006)
    await chat.send("/invite")
    await chat.send("/forget")
    await chat.press("Yes, delete everything")
    assert await bot.row("SELECT COUNT(*) FROM roles WHERE user_id = 6006") == (0,)
    assert await bot.row("SELECT COUNT(*) FROM audit_log WHERE actor = 6006 OR target = 6006") == (
        0,
    )
    assert await bot.row("SELECT COUNT(*) FROM audit_log") == (3,)  # what happened stays
    assert await bot.row("SELECT created_by FROM invites") == (None,)


def test_roles_repository_round_trip(tmp_path: Path) -> None:
    async def go() -> None:
        db = await Database.open(tmp_path / "r.db")
        roles = RoleRepository(db)
        now = datetime.now(UTC)
        assert await roles.grant(1, COORDINATOR, NETWORK, None, now)
        assert not await roles.grant(1, COORDINATOR, NETWORK, None, now)
        assert [r.role for r in await roles.roles_of(1)] == [COORDINATOR]
        assert not await roles.revoke(2, COORDINATOR, NETWORK, 1, now)
        with pytest.raises(ValueError):
            await roles.grant(3, COORDINATOR, 7, None, now)  # a coordinator has no group
        with pytest.raises(ValueError):
            await roles.grant(3, ADMIN, NETWORK, None, now)  # an admin has one
        await db.close()

    asyncio.run(go())


async def test_invite_join_team_and_remove(bot: Harness) -> None:
    await _grant(bot, 6101, ADMIN, "leeds")
    admin = bot.chat(6101)
    link = only(await admin.send("/invite")).plain_text()
    assert "An invite to Leeds City of Sanctuary (test)" in link
    code = link.rsplit("?start=", 1)[1].strip()
    assert code.startswith("j-") and len(code) <= 64
    volunteer = bot.chat(6102)
    welcome = only(await volunteer.send(f"/start {code}"))
    assert "Welcome to the team of Leeds City of Sanctuary (test)" in welcome.plain_text()
    again = only(await bot.chat(6103).send(f"/start {code}"))  # once only
    assert "expired or was already used" in again.plain_text()
    assert (
        "expired or was already used"
        in only(await volunteer.send("/start j-nonsense")).plain_text()
    )
    leeds = (await bot.services.groups.refs())["leeds"]
    assert await bot.row("SELECT role, group_id, label FROM roles WHERE user_id = 6102") == (
        "volunteer",
        leeds,
        "Test",
    )

    team = only(await admin.send("/team"))
    assert "Team of Leeds" in team.plain_text() and "• Test" in team.plain_text()
    # The volunteer cannot remove anyone, not even with the admin's button data.
    data = team.button_data("Test")
    await volunteer.press_data(data)
    assert "Only an admin" in (last_callback_answer(bot.server) or "")
    assert "Only an admin" in only(await volunteer.send("/team")).plain_text()
    assert "Only an admin" in only(await volunteer.send("/invite")).plain_text()
    for forged in ("T:rm:x:1", "T:rm:1", "T:zz:1:2"):
        await admin.press_data(forged)
        assert "expired" in (last_callback_answer(bot.server) or "")
    removed = only(await admin.press("Test", team))
    assert "No volunteers yet" in removed.plain_text()
    assert await bot.row("SELECT COUNT(*) FROM roles WHERE user_id = 6102") == (0,)
    actions = [(e.action, e.detail) for e in await bot.services.roles.audit()]
    assert actions[:3] == [("revoke", "volunteer"), ("refused", "invite"), ("refused", "team")]
    assert ("grant", "volunteer (invite)") in actions and ("invite", "") in actions


async def test_an_invite_expires_after_seven_days(bot: Harness) -> None:
    from datetime import timedelta

    from tests.conftest import NOW

    await _grant(bot, 6111, ADMIN, "leeds")
    link = only(await bot.chat(6111).send("/invite")).plain_text()
    code = link.rsplit("?start=", 1)[1].strip()
    bot.services.clock = lambda: NOW + timedelta(days=7, seconds=1)
    late = only(await bot.chat(6112).send(f"/start {code}"))
    assert "expired or was already used" in late.plain_text()
    assert await bot.row("SELECT COUNT(*) FROM roles WHERE user_id = 6112") == (0,)
