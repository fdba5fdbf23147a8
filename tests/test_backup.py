"""`backup` while the bot sends a campaign call, and `restore` only while nothing uses the database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.cli import commands as cli
from tests.conftest import Harness
from tests.helpers import eventually
from tests.test_campaigns import _calls, _coordinator, compose

# About SQLite's own backup API: the SQLite half only.
pytestmark = pytest.mark.sqlite_only

PEOPLE = range(810_001, 810_061)


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_a_backup_while_a_call_is_sending_restores_to_a_database_stats_reads(
    bot: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    services = bot.services
    assert services.sender is not None
    services.sender.limiter.interval = 0.1  # 10 a second: the call is still going out
    await _coordinator(bot)
    for user_id in PEOPLE:
        await services.users.set_locale(user_id, "en")
        await services.alerts.set(user_id, 1, 1, services.now())
    cid = await compose(bot)
    chat = bot.chat(7001)
    await chat.press("Confirm")
    await chat.press("Yes, send")
    await eventually(lambda: sum(len(_calls(bot, u)) for u in PEOPLE) >= 5, 10.0)

    live = services.config.db_path
    copy = tmp_path / "backups" / "nightly.db"
    monkeypatch.setenv("SANCTUARY_DB", str(live))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert await asyncio.to_thread(cli.main, ["backup", str(copy)]) == 0
    assert f"backed up {live} to {copy}" in capsys.readouterr().out
    # One snapshot, taken mid-send: the call's 60 messages are all there, some still to go.
    assert _rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(copy, f"SELECT state, recipients FROM campaigns WHERE id = {cid}") == [
        ("sending", 60)
    ]
    states = dict(_rows(copy, "SELECT state, COUNT(*) FROM outbox GROUP BY state"))
    sent_at_backup = states.get("sent", 0)
    assert sum(states.values()) == 60 and 1 <= sent_at_backup < 60, states
    assert not copy.with_name("nightly.db-wal").exists()  # a single file

    # The bot is running: its database is not replaced, and it goes on sending.
    assert await asyncio.to_thread(cli.main, ["restore", str(copy)]) == 1
    assert "is in use" in capsys.readouterr().err
    await eventually(lambda: sum(len(_calls(bot, u)) for u in PEOPLE) >= sent_at_backup + 5, 10.0)

    # Restored elsewhere (a new server, or after stopping the bot), `stats` reads it.
    restored = tmp_path / "restored" / "sanctuary.db"
    monkeypatch.setenv("SANCTUARY_DB", str(restored))
    assert await asyncio.to_thread(cli.main, ["restore", str(copy)]) == 0
    assert f"restored {copy} to {restored}" in capsys.readouterr().out
    assert await asyncio.to_thread(cli.main, ["stats", "--csv"]) == 0
    rows = set(capsys.readouterr().out.splitlines())
    assert "alert_subscribers,,,60" in rows
    assert "people_with_role,coordinator,,1" in rows
    assert "calls_launched,,2026-11,1" in rows


def test_restore_takes_only_a_sanctuary_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "data" / "sanctuary.db"
    monkeypatch.setenv("SANCTUARY_DB", str(target))
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    for bad, why in (
        (text, "is not an SQLite database"),
        (other, "is not a sanctuary-bot database"),
        (tmp_path / "missing.db", "no such database"),
    ):
        assert cli.main(["restore", str(bad)]) == 1
        assert why in capsys.readouterr().err
    assert not target.exists()  # nothing was created or replaced
    assert cli.main(["backup", str(tmp_path / "copy.db")]) == 1
    assert "no such database" in capsys.readouterr().err
