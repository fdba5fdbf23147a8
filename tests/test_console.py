"""The console demo: a scripted conversation through the same handlers and sample data."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli.console import run_console
from bot.config import Config
from tests.conftest import OUTCODES_CSV

# The console reads its database's file behind its back: the SQLite half only.
pytestmark = pytest.mark.sqlite_only


async def _console(tmp_path: Path, stdin: io.StringIO) -> str:
    """Everything the console printed for a typed script, on a fresh demo database."""
    config = replace(
        Config.from_env({}),
        db_path=tmp_path / "demo.db",
        cache_dir=tmp_path / "cache",
        outcodes_path=OUTCODES_CSV,
    )
    out = io.StringIO()
    assert await run_console(config, stdin, out) == 0
    return out.getvalue()


async def test_console_demo_walks_the_journey(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/start",
            "#1",  # English
            "#1",  # looking for welcome and support
            "#1",  # find welcoming activities
            "Leeds",
            "#1",  # the nearest activity's card
            "#2",  # add to calendar
            ":loc 55.86 -4.25",  # Glasgow
            "#99",
            "/groups",
            "LS6 1AA",
            ":loc nonsense",
            "/privacy",
            ":admin nowhere",
            ":admin leeds",
            "/newactivity",
            "Demo tea",
            "/myactivities",
            ":quit",
        ]
    )
    text = await _console(tmp_path, io.StringIO(script + "\n"))
    assert "sample data loaded" in text
    assert "[2] العربية" in text
    assert "What brings you here?" in text
    assert "welcoming activities near you" in text
    assert "Leeds City of Sanctuary (sample)" in text
    assert "🗓 When:" in text
    assert "💬 This menu has expired" not in text
    assert "📎 activity-" in text and ".ics" in text
    assert "Glasgow City of Sanctuary (sample)" in text
    assert "(choose a button from 1 to" in text
    assert "(usage: :loc LAT LON" in text
    assert "Office for National Statistics" in text  # the postcode data's licence in /privacy
    assert "(usage: :admin REF" in text and "(you are now an admin of leeds)" in text
    assert "What kind of activity is it?" in text  # the demo user may post now
    assert "Your activities" in text  # the sample group's activities, to manage
    assert text.rstrip().endswith("bye")
    assert "Traceback" not in text and "something went wrong" not in text


class _Pausing(io.StringIO):
    """A person who stops to read before typing ``/help``: until the bot has sent the notice
    of the concern, on its own time (the demo database says when)."""

    def __init__(self, script: str, db_path: Path) -> None:
        super().__init__(script)
        self.db_path = db_path

    def readline(self, size: int = -1) -> str:
        line = super().readline(size)
        if line.startswith("/help"):  # in the console's reader thread: the bot goes on
            for _ in range(1500):  # up to 30 s
                if self._notice_sent():
                    break
                time.sleep(0.02)
        return line

    def _notice_sent(self) -> bool:
        with contextlib.closing(sqlite3.connect(self.db_path)) as conn:
            sent = conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'concern' AND state = 'sent'"
            ).fetchone()
        return bool(sent[0])


async def test_what_arrives_between_two_lines_is_shown(tmp_path: Path) -> None:
    """A notice sent while the person is typing (here: the report they made reaches them as
    the group's admin) is printed before the answer to their next line, not lost."""
    script = "\n".join(
        [
            "/start",
            "#1",  # English
            "#1",  # looking for welcome and support
            ":admin leeds",
            "#1",  # find welcoming activities
            "Leeds",
            "#1",  # the nearest activity's card: Leeds's conversation café
            "#5",  # report a concern
            "#1",  # wrong information
            "/help",
            ":quit",
        ]
    )
    text = await _console(tmp_path, _Pausing(script + "\n", tmp_path / "demo.db"))
    notice = text.index("A concern was reported about “Conversation café”")
    assert text.rindex("you> ", 0, notice) > text.index("admins have been told")  # after the report
    assert notice < text.index("How this bot helps")  # before the answer to /help
