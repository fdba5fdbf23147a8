"""The weekly digest as the sender renders it: the nearest few looked at first, further only
when too few of them take place this week; the reader read once per message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.delivery.outbox import RECIPIENT
from bot.delivery.renderers import DIGEST_SIZE, build_renderers
from bot.search.directory import Directory
from storage.models import Activity, Group, User
from storage.outbox import OutboxRow

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday
LEEDS = (53.80, -1.55)


def _group() -> Group:
    return Group(
        1, "g1", "Leeds City of Sanctuary", "group", None, "Leeds", "england", *LEEDS,
        "g@example.org", None, None, None, "", "Europe/London", True,
    )  # fmt: skip


def _activity(activity_id: int, km_north: float, rule: str) -> Activity:
    return Activity(
        id=activity_id, ref=None, group_id=1, title=f"Activity {activity_id}",
        category="conversation", description="", venue="", address="", postcode="",
        lat=LEEDS[0] + km_north / 111.2, lon=LEEDS[1], starts_at=NOW - timedelta(days=60),
        duration_min=90, rrule=rule, until=None, languages=("en",), cost=None,
        needs=frozenset(), contact="", status="published", created_by=None, updated_at=NOW,
    )  # fmt: skip


class _Users:
    """A reader who saved an area in Leeds; counts how often they are read."""

    def __init__(self) -> None:
        self.reads = 0
        self.user = User(7, "en", "seeking", *LEEDS, "Leeds", NOW, NOW, weekly_digest=True)

    async def get(self, user_id: int) -> User | None:
        self.reads += 1
        return self.user if user_id == self.user.id else None


def _digest(directory: Directory, users: _Users) -> Any:
    config = Config("1:T", "http://127.0.0.1:9/bot", Path(":memory:"), Path("."), None)
    renderers = build_renderers(directory, lambda: NOW, users, config, None)  # type: ignore[arg-type]
    return renderers["digest"]


ROW = OutboxRow(1, "digest", "2026-W48", 7, {}, "pending", 0, NOW, None, None)


async def test_a_digest_looks_further_when_the_nearest_are_not_this_week() -> None:
    # The twenty nearest meet on the first Saturday of the month (next: 5 December, not
    # this week); three a little further meet every Tuesday.
    monthly = [_activity(i, 0.1 * i, "FREQ=MONTHLY;BYDAY=1SA") for i in range(1, 21)]
    weekly = [_activity(100 + i, 5.0 + i, "FREQ=WEEKLY;BYDAY=TU") for i in range(3)]
    directory = Directory(None, None)  # type: ignore[arg-type]  # loaded directly
    directory.load([_group()], [*monthly, *weekly])
    view = await _digest(directory, _Users())(ROW)
    assert view is not None
    assert [f"Activity {100 + i}" in view.text for i in range(3)] == [True] * 3
    assert "Activity 1<" not in view.text


async def test_a_digest_lists_the_nearest_of_this_week_first() -> None:
    near = [_activity(i, 0.5 * i, "FREQ=WEEKLY;BYDAY=TU") for i in range(1, 31)]
    directory = Directory(None, None)  # type: ignore[arg-type]  # loaded directly
    directory.load([_group()], near)
    view = await _digest(directory, _Users())(ROW)
    assert view is not None
    shown = [i for i in range(1, 31) if f"Activity {i}<" in view.text]
    assert shown == list(range(1, DIGEST_SIZE + 1))


async def test_the_reader_the_sender_read_is_not_read_again() -> None:
    near = [_activity(i, 0.5 * i, "FREQ=WEEKLY;BYDAY=TU") for i in range(1, 4)]
    directory = Directory(None, None)  # type: ignore[arg-type]  # loaded directly
    directory.load([_group()], near)
    users = _Users()
    digest = _digest(directory, users)
    token = RECIPIENT.set(users.user)  # as Sender._render sets it
    try:
        assert await digest(ROW) is not None
    finally:
        RECIPIENT.reset(token)
    assert users.reads == 0
    assert await digest(ROW) is not None  # rendered elsewhere: read from the database
    assert users.reads == 1
