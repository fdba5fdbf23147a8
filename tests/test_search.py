"""Tests for bot.search.directory: the indexed search finds exactly what checking every activity finds."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.search.directory import Directory, directory_row
from storage.models import Activity, DirectoryRow, Group

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
LEEDS = (53.80, -1.55)
CATEGORIES = ["english", "conversation", "sport", "food"]


def _group(group_id: int, verified: bool = True) -> Group:
    return Group(
        group_id, f"g{group_id}", f"Group {group_id}", "group", None, "Leeds", "england",
        53.8, -1.55, "g@example.org", None, None, None, "", "Europe/London", verified,
    )  # fmt: skip


def _activities(count: int, seed: int) -> list[Activity]:
    """Around Leeds: weekly series (some with a last date), and one-offs past and future."""
    rng = random.Random(seed)
    found = []
    for i in range(count):
        shape = rng.random()
        weekly = shape < 0.6
        starts = NOW + timedelta(days=rng.randrange(-90, 60), hours=rng.randrange(24))
        until = (starts + timedelta(days=rng.randrange(0, 90))).date() if shape < 0.3 else None
        found.append(
            Activity(
                id=i + 1, ref=None, group_id=rng.choice([1, 1, 1, 2]),
                title=f"Activity {i}", category=rng.choice(CATEGORIES), description="",
                venue="", address="", postcode="",
                lat=LEEDS[0] + rng.gauss(0, 0.2), lon=LEEDS[1] + rng.gauss(0, 0.3),
                starts_at=starts, duration_min=90,
                rrule="FREQ=WEEKLY;BYDAY=TU" if weekly else None, until=until if weekly else None,
                languages=("en",), cost=rng.choice([None, "£2"]),
                needs=frozenset(rng.sample(["no_id", "women_only", "step_free"], rng.randrange(3))),
                contact="", status="published", created_by=None, updated_at=NOW,
            )
        )  # fmt: skip
    return found


@pytest.fixture(scope="module")
def directory() -> Directory:
    found = Directory(None, None)  # type: ignore[arg-type]  # loaded directly, no database
    found.load([_group(1), _group(2, verified=False)], _activities(1_500, seed=3))
    return found


FILTERS: list[tuple[str | None, frozenset[str]]] = [
    (None, frozenset()),
    ("english", frozenset()),
    (None, frozenset({"free"})),
    ("sport", frozenset({"no_id", "free"})),
]


_ACTIVITIES = _activities(600, seed=3)
_QUERY = st.tuples(
    st.integers(-10, 80),  # days from NOW: series and one-offs end, and are found again
    st.floats(LEEDS[0] - 1.0, LEEDS[0] + 1.0),
    st.floats(LEEDS[1] - 1.4, LEEDS[1] + 1.4),
    st.sampled_from([2.0, 10.0, 40.2, 100.0]) | st.floats(0.0, 200.0),
    st.sampled_from([0, 1, 3, 99]),
)


@pytest.mark.parametrize(("category", "needs"), FILTERS)
@settings(max_examples=40)
@given(queries=st.lists(_QUERY, min_size=1, max_size=6))
def test_search_equals_checking_every_activity(
    category: str | None,
    needs: frozenset[str],
    queries: list[tuple[int, float, float, float, int]],
) -> None:
    directory = Directory(None, None)  # type: ignore[arg-type]  # loaded directly, no database
    directory.load([_group(1), _group(2, verified=False)], _ACTIVITIES)
    for days, lat, lon, radius, page in queries:  # one after another: time goes back and forth
        now = NOW + timedelta(days=days)
        args = (lat, lon, radius, now, category, needs)
        found = directory.search(*args, page=page)
        assert found == directory.search(*args, page=page, full_scan=True)
        assert all(hit.group.verified for hit in found.hits)
        assert all(
            (schedule := directory.schedules[hit.activity.id]).last_end() is None
            or schedule.last_end() > now  # type: ignore[operator]
            for hit in found.hits
        )


def test_search_leaves_out_what_has_ended(directory: Directory) -> None:
    def still_on(now: datetime) -> int:
        """Counted by hand: the verified group's activities whose last date ends after now."""
        ends = [directory.schedules[a.id].last_end() for a in _activities(1_500, seed=3)
                if a.group_id == 1]  # fmt: skip
        return sum(1 for end in ends if end is None or end > now)

    later = NOW + timedelta(days=200)
    everyone = directory.search(*LEEDS, 500.0, NOW)
    assert everyone.total == still_on(NOW)
    assert 0 < directory.search(*LEEDS, 500.0, later).total == still_on(later) < everyone.total
    assert directory.search(*LEEDS, 500.0, NOW).total == everyone.total


class _SlowRepos:
    """Repositories whose reads can be held, to interleave two refreshes."""

    def __init__(self, activities: list[Activity]) -> None:
        self.data = activities
        self.version = 1
        self.hold: asyncio.Event | None = None

    async def change_marks(self) -> tuple[int, int]:
        return self.version, 0

    async def all(self) -> list[Group]:
        return [_group(1), _group(2)]

    async def directory_batch(
        self, after_id: int, limit: int = 2_000, group_ids: object = None
    ) -> list[DirectoryRow]:
        found = [directory_row(a) for a in self.data if a.id > after_id][:limit]  # now...
        if self.hold is not None:
            await self.hold.wait()  # ...arrives late
        return found

    async def changed_since(
        self, mark: int, limit: int = 2_000
    ) -> tuple[list[DirectoryRow], list[int], int]:
        if mark >= self.version:
            return [], [], mark
        return [directory_row(a) for a in self.data][:limit], [], self.version

    async def store_last_ends(self, ends: list[tuple[int, str]]) -> None:
        pass


async def test_a_slow_refresh_cannot_overwrite_a_newer_one() -> None:
    """The periodic reload has read, a moderator's approval reloads meanwhile: the newer
    reading stays, instead of the older one landing last (hidden until the next reload)."""
    everything = _activities(20, seed=5)
    repos = _SlowRepos(everything[:10])
    directory = Directory(repos, repos)  # type: ignore[arg-type]
    late = repos.hold = asyncio.Event()
    periodic = asyncio.create_task(directory.refresh())
    await asyncio.sleep(0.01)  # it has read ten activities; they arrive late
    repos.hold = None
    repos.data, repos.version = everything, 2  # ten more approved
    approved = asyncio.create_task(directory.refresh(force=True))
    await asyncio.sleep(0.01)
    late.set()
    await asyncio.gather(periodic, approved)
    assert set(directory.activities) == {a.id for a in everything}
    assert not await directory.refresh()  # and the stamp is the newer one
