"""The search directory follows changes one activity at a time: what the bot changes is found
(or gone) at once, what another process changes after the periodic check, and following the
changes ends where loading everything again would."""

from __future__ import annotations

import csv
import gc
import io
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.importer import export_activities, import_activities
from bot.search import directory as directory_module
from bot.search.directory import Directory, Listing
from storage.activities import ActivityRepository
from storage.db import Database, to_db
from storage.groups import GroupRepository
from storage.models import ActivityData
from tests.conftest import NOW, Harness, seed_test_data
from tests.data import LEEDS
from tests.helpers import only
from tests.test_posting import ADMIN_ID, team

NEWCASTLE = (54.9783, -1.6178)  # far from Leeds: nothing of Leeds is found here
CAFE = "leeds-cafe"


async def _cafe(bot: Harness) -> int:
    row = await bot.row("SELECT id FROM activities WHERE ref = ?", CAFE)
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


async def _found(bot: Harness, user_id: int, point: tuple[float, float]) -> str:
    """What a seeker sharing a location there sees, as plain text."""
    chat = bot.chat(user_id)
    if user_id not in _started:
        await chat.send("/start")
        await chat.press_data("L:en:s")
        _started.add(user_id)
    return only(await chat.share_location(*point)).plain_text()


_started: set[int] = set()


@pytest.fixture(autouse=True)
def _fresh_chats() -> None:
    _started.clear()


async def test_an_edited_activity_is_found_at_its_new_place_at_once(bot: Harness) -> None:
    await team(bot)
    cafe = await _cafe(bot)
    assert "Conversation café" in await _found(bot, 8501, LEEDS)
    assert "Conversation café" not in await _found(bot, 8501, NEWCASTLE)

    admin = bot.chat(ADMIN_ID)
    card = only(await admin.press("Conversation café", only(await admin.send("/myactivities"))))
    parts = only(await admin.press("Edit", card))
    asked = only(await admin.press("Where", parts))
    assert "Where is it?" in asked.plain_text()
    replies = await admin.share_location(*NEWCASTLE)
    if "What is the place called?" in replies[-1].plain_text():
        replies = await admin.send("Quayside Hall")
    assert "is updated" in replies[-1].plain_text()
    moved = await bot.row("SELECT lat FROM activities WHERE id = ?", cafe)
    assert moved is not None and round(float(moved[0]), 2) == 54.98  # type: ignore[arg-type]

    # no periodic check in between: the bot applied its own change when it made it
    assert "Conversation café" in await _found(bot, 8501, NEWCASTLE)
    assert "Conversation café" not in await _found(bot, 8501, LEEDS)


async def test_the_card_reads_everything_from_the_database(bot: Harness) -> None:
    cafe = await _cafe(bot)
    listing = bot.services.directory.activities[cafe]
    assert isinstance(listing, Listing) and not hasattr(listing, "description")
    results = await _found(bot, 8502, LEEDS)
    number = next(line for line in results.splitlines() if "Conversation café" in line)[0]
    card = only(await bot.chat(8502).press(number)).plain_text()
    for shown in ("Conversation café", "Tea and talk in easy English.", "St Mary's Hall",
                  "1 Church Lane", "LS1 1AA", "Just come along"):  # fmt: skip
        assert shown in card


async def _other_process(tmp_path: Path) -> Database:
    """A second connection to the bot's database: what the CLI import opens."""
    return await Database.open(tmp_path / "bot.db")


def _moved_csv(exported: str, ref: str, lat: float, lon: float) -> str:
    rows = list(csv.reader(io.StringIO(exported)))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("ref")] == ref:
            row[header.index("latitude")], row[header.index("longitude")] = str(lat), str(lon)
            row[header.index("title")] = "Conversation café on the Tyne"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


async def test_changes_by_another_process_are_found_by_the_periodic_check(
    bot: Harness, tmp_path: Path
) -> None:
    cafe = await _cafe(bot)
    other = await _other_process(tmp_path)
    try:
        await import_activities(other, _moved_csv(await export_activities(other), CAFE, *NEWCASTLE))
        assert "Conversation café" in await _found(bot, 8503, LEEDS)  # not looked yet
        assert await bot.services.directory.refresh()  # what the 30-second job does
        assert "Conversation café on the Tyne" in await _found(bot, 8503, NEWCASTLE)
        assert "Conversation café" not in await _found(bot, 8503, LEEDS)

        await ActivityRepository(other).set_paused(cafe, True, NOW)
        assert await bot.services.directory.refresh()
        assert "Conversation café" not in await _found(bot, 8503, NEWCASTLE)
        await ActivityRepository(other).set_paused(cafe, False, NOW)
        assert await bot.services.directory.refresh()
        assert "Conversation café" in await _found(bot, 8503, NEWCASTLE)

        await ActivityRepository(other).set_status(cafe, "hidden", NOW)
        assert await bot.services.directory.refresh()
        assert "Conversation café" not in await _found(bot, 8503, NEWCASTLE)

        assert not await bot.services.directory.refresh()  # nothing changed since
    finally:
        await other.close()


# -- following the changes equals loading everything -------------------------------------------


def _state(directory: Directory) -> Any:
    """Everything a search, the results page and the planner read from the directory."""
    schedules = {
        i: (s.starts_at, s.duration_min, s.rule, s.until, s.tz, s.skips)
        for i, s in directory.schedules.items()
    }
    searches = [
        directory.search(lat, lon, km, when, category, needs, page_size=50)
        for lat, lon in (LEEDS, NEWCASTLE, (53.38, -1.47), (51.5, -0.12))
        for km in (5.0, 40.0, 800.0)
        for when in (NOW, NOW + timedelta(days=40), NOW + timedelta(days=400))
        for category, needs in ((None, frozenset()), ("english", frozenset({"no_id"})))
    ]
    groups = directory.nearest_groups(*LEEDS, 50)
    ends = list(zip(directory._ends.micros, directory._ends.ids, strict=True))
    return directory.activities, schedules, searches, groups, ends


def _data(rng: random.Random, group_ref: str) -> ActivityData:
    starts = NOW + timedelta(days=rng.randrange(-200, 60), hours=rng.randrange(8, 20))
    weekly = rng.random() < 0.7
    return ActivityData(
        ref=None, group_ref=group_ref, title=f"Activity {rng.randrange(10**6)}",
        category=rng.choice(["english", "conversation", "sport", "food"]), description="d",
        venue="v", address="a", postcode="LS1 1AA",
        lat=LEEDS[0] + rng.gauss(0, 0.5), lon=LEEDS[1] + rng.gauss(0, 0.5),
        starts_at=starts, duration_min=90, rrule="FREQ=WEEKLY;BYDAY=TU" if weekly else None,
        until=(starts + timedelta(days=rng.randrange(1, 300))).date()
        if weekly and rng.random() < 0.5 else None,
        languages=("en",), cost=rng.choice([None, "£2"]),
        needs=frozenset(rng.sample(["no_id", "women_only", "step_free"], rng.randrange(3))),
        contact="c",
    )  # fmt: skip


async def _change(
    rng: random.Random, db: Database, repo: ActivityRepository, groups: GroupRepository
) -> None:
    """One random change of the kinds the bot, the CLI and the jobs make."""
    async with db.conn.execute("SELECT id FROM activities ORDER BY id") as cur:
        ids = [row[0] for row in await cur.fetchall()]
    group_list = await groups.all()
    some = rng.choice(ids)
    kind = rng.randrange(11)
    if kind == 0:
        group = rng.choice(group_list)
        await repo.create(_data(rng, group.ref), group.id, 1, "published", NOW)
    elif kind == 1:
        await repo.update(some, _data(rng, "unused"), NOW)
    elif kind == 2:
        await repo.set_paused(some, rng.random() < 0.5, NOW)
    elif kind == 3:
        await repo.set_status(some, rng.choice(["published", "hidden", "cancelled"]), NOW)
    elif kind == 4:
        await repo.mark_stale([some], NOW)
    elif kind == 5:
        await repo.confirm(some, NOW)
    elif kind == 6:
        await repo.add_skip(some, (NOW + timedelta(days=rng.randrange(60))).date(), NOW)
    elif kind == 7:
        await repo.set_skips(some, [], NOW)
    elif kind == 8:
        group = rng.choice(group_list)
        await db.conn.execute(
            "UPDATE groups SET verified = ?, timezone = ?, updated_at = ? WHERE id = ?",
            (
                rng.random() < 0.6,
                rng.choice(["Europe/London", "Europe/Dublin"]),
                to_db(NOW),
                group.id,
            ),
        )
    elif kind == 9:
        await db.conn.execute("DELETE FROM activities WHERE id = ?", (some,))
    else:
        await repo.mark_asked([some], NOW)  # changes nothing /find shows


@pytest.mark.parametrize("seed", range(6))
async def test_following_changes_equals_loading_everything(tmp_path: Path, seed: int) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        await seed_test_data(db)
        repo, groups = ActivityRepository(db), GroupRepository(db)
        followed = Directory(repo, groups)
        assert await followed.refresh()
        rng = random.Random(seed)
        for _round in range(8):
            followed.search(*LEEDS, 800.0, NOW)  # some have ended by now: out of the grid
            for _ in range(rng.randrange(1, 6)):
                await _change(rng, db, repo, groups)
            await followed.refresh()
            loaded = Directory(repo, groups)
            await loaded.refresh()
            assert _state(followed) == _state(loaded)
    finally:
        await db.close()


async def test_a_series_last_date_is_worked_out_once_and_kept(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        await seed_test_data(db)
        repo = ActivityRepository(db)
        group = (await GroupRepository(db).all())[0]
        data = _data(random.Random(1), group.ref)
        activity_id = await repo.create(data, group.id, 1, "published", NOW)
        await repo.update(
            activity_id,
            ActivityData(
                **{
                    **{f: getattr(data, f) for f in ActivityData.__dataclass_fields__},
                    "rrule": "FREQ=WEEKLY;BYDAY=TU",
                    "until": date(2027, 3, 1),
                }
            ),
            NOW,
        )
        directory = Directory(repo, GroupRepository(db))
        await directory.refresh()
        expected = directory.schedules[activity_id].last_end()
        assert expected is not None
        row = await db.conn.execute_fetchall(
            "SELECT last_end FROM activities WHERE id = ?", (activity_id,)
        )
        assert [r[0] for r in row] == [to_db(expected)]

        # a new last date: worked out again when the change is read
        changed = {f: getattr(data, f) for f in ActivityData.__dataclass_fields__}
        changed.update(rrule="FREQ=WEEKLY;BYDAY=TU", until=date(2027, 6, 1))
        await repo.update(activity_id, ActivityData(**changed), NOW)
        row = await db.conn.execute_fetchall(
            "SELECT last_end FROM activities WHERE id = ?", (activity_id,)
        )
        assert [r[0] for r in row] == [None]
        await directory.refresh()
        later = directory.schedules[activity_id].last_end()
        assert later is not None and later > expected
        assert directory.activities[activity_id].last_end == later
        row = await db.conn.execute_fetchall(
            "SELECT last_end FROM activities WHERE id = ?", (activity_id,)
        )
        assert [r[0] for r in row] == [to_db(later)]
    finally:
        await db.close()


async def _crowded(
    db: Database, seed: int, count: int
) -> tuple[ActivityRepository, GroupRepository]:
    """The test data and ``count`` more activities around Leeds (crowded cells), some over."""
    await seed_test_data(db)
    repo, groups = ActivityRepository(db), GroupRepository(db)
    group = (await groups.all())[0]
    rng = random.Random(seed)
    for _ in range(count):
        await repo.create(_data(rng, group.ref), group.id, 1, "published", NOW)
    return repo, groups


async def test_a_search_before_packing_ahead_is_done_finds_what_one_after_finds(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        repo, groups = await _crowded(db, seed=24, count=60)
        directory = Directory(repo, groups)
        await directory.refresh()
        assert directory.packing_left  # the bot answers before the grid is packed ahead
        before = _state(directory)
        baseline = [
            directory.search(lat, lon, km, NOW, category, needs, page_size=500, full_scan=True)
            for lat, lon in (LEEDS, NEWCASTLE)
            for km in (5.0, 40.0, 800.0)
            for category, needs in ((None, frozenset()), ("english", frozenset({"no_id"})))
        ]
        frozen = gc.get_freeze_count()
        await directory.settled()
        assert not directory.packing_left
        assert gc.get_freeze_count() > frozen  # what packing made: out of full collections
        assert _state(directory) == before
        assert [
            directory.search(lat, lon, km, NOW, category, needs, page_size=500)
            for lat, lon in (LEEDS, NEWCASTLE)
            for km in (5.0, 40.0, 800.0)
            for category, needs in ((None, frozenset()), ("english", frozenset({"no_id"})))
        ] == baseline
        assert any(page.total > 20 for page in baseline)
    finally:
        await db.close()


async def test_a_search_right_after_start_packs_its_own_cells_first_in_slices(
    tmp_path: Path,
) -> None:
    """Before packing ahead is done, ``ready_near`` packs the cells a search needs (a slice at
    a time, the loop given back between): the search then packs nothing on the spot, the
    rest of the country is left to packing ahead, and the answer is the same."""
    db = await Database.open(tmp_path / "d.db")
    try:
        repo, groups = await _crowded(db, seed=24, count=60)
        directory = Directory(repo, groups)
        await directory.refresh()
        directory.close()  # no packing ahead: only what the search asks for
        grid = directory._grid
        assert grid.unpacked_under(*LEEDS, 10.0)
        baseline = directory.search(*LEEDS, 10.0, NOW, page_size=500, full_scan=True)
        await directory.ready_near(*LEEDS, 10.0)
        assert grid.unpacked_under(*LEEDS, 10.0) == []
        assert grid.unpacked_under(*LEEDS, 60.0)  # not needed: still to pack
        assert directory.search(*LEEDS, 10.0, NOW, page_size=500) == baseline
        assert baseline.total > 5
    finally:
        await db.close()


async def test_what_is_over_when_the_directory_loads_never_goes_into_the_grid(
    tmp_path: Path,
) -> None:
    """The first load leaves out what is over by then (the first search would take it out of
    a crowded city's cells, thousands at once); searches at that time, before it (what was
    over is put back) and after it find what checking every activity finds."""
    db = await Database.open(tmp_path / "d.db")
    try:
        repo, groups = await _crowded(db, seed=7, count=80)
        directory = Directory(repo, groups, lambda: NOW)
        await directory.refresh()
        over = [i for i, a in directory.activities.items() if a.last_end and a.last_end <= NOW]
        assert over and len(directory._grid) == len(directory.activities) - len(over)
        for when in (NOW, NOW - timedelta(days=150), NOW, NOW + timedelta(days=30)):
            for lat, lon in (LEEDS, NEWCASTLE):
                for km in (5.0, 40.0, 800.0):
                    for category, needs in ((None, frozenset()), ("english", frozenset({"no_id"}))):
                        args = (lat, lon, km, when, category, needs)
                        assert directory.search(*args, page_size=500) == directory.search(
                            *args, page_size=500, full_scan=True
                        )
    finally:
        await db.close()


def test_the_ends_keep_order_by_end_then_id_through_changes() -> None:
    """The activities with a last end, in two arrays of numbers (memory at national scale):
    earliest end first, ties by id, whatever order they come and go in; how many end by a
    moment counts those ending at it."""
    ends = directory_module._Ends()
    rng = random.Random(3)
    base = datetime(2026, 11, 23, 9, 30, 0, 250_000, tzinfo=UTC)
    kept: dict[int, datetime] = {}
    for activity_id in rng.sample(range(1, 10_000), 600):
        end = base + timedelta(minutes=15 * rng.randrange(8))  # many ties
        ends.add(end, activity_id)
        kept[activity_id] = end
    for activity_id in rng.sample(sorted(kept), 250):
        ends.remove(kept.pop(activity_id), activity_id)
    expected = sorted((end, activity_id) for activity_id, end in kept.items())
    assert list(ends.ids) == [activity_id for _end, activity_id in expected]
    assert list(ends.micros) == [directory_module._micros(end) for end, _id in expected]
    moment = base + timedelta(minutes=45)
    assert ends.ended_by(moment) == sum(end <= moment for end in kept.values())
    assert ends.ended_by(moment - timedelta(microseconds=1)) == sum(
        end < moment for end in kept.values()
    )
