"""The activity and group directory kept in memory, and the nearby search over it.

Activities and groups are read from SQLite once and again only when they change (a cheap
fingerprint is checked by a job), so a search costs no database call.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain import Need
from bot.geo import PointGrid, SpatialIndex
from bot.recurrence import Occurrence, Schedule
from storage.activities import ActivityRepository
from storage.groups import GroupRepository
from storage.models import Activity, Group

CELL_DEG = 0.25


@dataclass(frozen=True, slots=True)
class Pin:
    """What the indexes need to filter an activity: its kind. Few activities differ in kind,
    so the count asks a filter once per kind, not once per activity."""

    category: str
    needs: frozenset[str]


@dataclass(frozen=True, slots=True)
class Hit:
    """An activity found near a point."""

    km: float
    activity: Activity
    group: Group


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a search: how many match in all, and the hits on this page."""

    total: int
    hits: list[Hit]
    number: int  # the page shown (clamped to the last page)


@dataclass(frozen=True, slots=True)
class GroupHit:
    """A group found near a point."""

    km: float
    group: Group


def activity_needs(activity: Activity) -> frozenset[str]:
    """The needs an activity meets, ``free`` included when it has no cost."""
    return activity.needs | {Need.FREE.value} if activity.is_free else activity.needs


class Directory:
    """Published activities and groups in memory, with spatial indexes."""

    def __init__(self, activities: ActivityRepository, groups: GroupRepository) -> None:
        self._activity_repo = activities
        self._group_repo = groups
        self._stamp: tuple[int, str] | None = None
        self._reloading = asyncio.Lock()  # one reload at a time: a slower one never lands last
        self.activities: dict[int, Activity] = {}
        self.groups: dict[int, Group] = {}
        self.schedules: dict[int, Schedule] = {}
        # A grid over the activities counts the matches by kind and finds the nearest few.
        # Activities whose last date has passed are taken out of it (and put back if asked
        # about an earlier time).
        self._grid: PointGrid[Pin] = PointGrid(CELL_DEG)
        self._ends: list[tuple[datetime, int]] = []  # (last end, id), earliest first
        self._ended = 0  # how many of _ends are out of the grid
        self._pins: dict[int, Pin] = {}
        self._everything: SpatialIndex[tuple[Pin, datetime | None]] | None = None
        self._group_index: SpatialIndex[Group] = SpatialIndex()

    async def refresh(self, force: bool = False) -> bool:
        """Reload from the database when it changed; True when something was reloaded."""
        async with self._reloading:
            stamp = await self._activity_repo.stamp()
            group_count = await self._group_repo.count()
            full_stamp = (stamp[0] * 7919 + group_count, stamp[1])
            if not force and full_stamp == self._stamp:
                return False
            groups = {g.id: g for g in await self._group_repo.all()}
            activities = await self._activity_repo.published()
            self.load(groups.values(), activities)
            self._stamp = full_stamp
            return True

    def load(self, groups: Iterable[Group], activities: Iterable[Activity]) -> None:
        """Replace the contents (also used by tests and benchmarks)."""
        self.groups = {g.id: g for g in groups}
        self.activities = {}
        self.schedules = {}
        pins: dict[int, Pin] = {}
        grid: PointGrid[Pin] = PointGrid(CELL_DEG)
        ends = []
        for activity in activities:
            group = self.groups.get(activity.group_id)
            if group is None or not group.verified:
                continue  # every public activity is traceable to a verified organiser
            schedule = Schedule(
                activity.starts_at,
                activity.duration_min,
                activity.rrule,
                activity.until,
                group.timezone,
                activity.skips,
            )
            self.activities[activity.id] = activity
            self.schedules[activity.id] = schedule
            pin = Pin(activity.category, activity_needs(activity))
            pins[activity.id] = pin
            grid.add(activity.id, activity.lat, activity.lon, pin)
            last_end = schedule.last_end()
            if last_end is not None:
                ends.append((last_end, activity.id))
        group_index: SpatialIndex[Group] = SpatialIndex(cell_deg=0.25)
        for group in self.groups.values():
            group_index.add(group.id, group.lat, group.lon, group)
        ends.sort()
        self._pins, self._grid = pins, grid
        self._ends, self._ended = ends, 0
        self._everything = None
        self._group_index = group_index

    def _leave_out_ended(self, now: datetime) -> None:
        """Keep in the grid exactly the activities whose last date ends after ``now``."""
        ends, ended = self._ends, self._ended
        if (ended == len(ends) or ends[ended][0] > now) and (
            not ended or ends[ended - 1][0] <= now
        ):
            return  # as at the last search (nearly always)
        ended = bisect_right(self._ends, now, key=lambda end: end[0])
        for _end, item_id in self._ends[self._ended : ended]:
            self._grid.remove(item_id)
        for _end, item_id in self._ends[ended : self._ended]:
            activity, pin = self.activities[item_id], self._pins[item_id]
            self._grid.add(item_id, activity.lat, activity.lon, pin)
        self._ended = ended

    def _scan_all(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        now: datetime,
        wanted: Callable[[Pin], bool] | None,
    ) -> list[tuple[float, int]]:
        """Every wanted activity within the radius by checking each one: the baseline."""
        if self._everything is None:
            self._everything = SpatialIndex(CELL_DEG)
            ends = {item_id: end for end, item_id in self._ends}  # worked out at load
            for item_id, activity in self.activities.items():
                entry = (self._pins[item_id], ends.get(item_id))
                self._everything.add(item_id, activity.lat, activity.lon, entry)

        def still(entry: tuple[Pin, datetime | None]) -> bool:
            return (entry[1] is None or entry[1] > now) and (wanted is None or wanted(entry[0]))

        return [hit[:2] for hit in self._everything.scan(lat, lon, radius_km, still)]

    def search(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        now: datetime,
        category: str | None = None,
        needs: frozenset[str] = frozenset(),
        *,
        page: int = 0,
        page_size: int = 5,
        full_scan: bool = False,
    ) -> Page:
        """A page of activities within ``radius_km`` that still take place, nearest first.

        Only the page is built: the total is counted, the page's hits come from a k-nearest
        search. ``full_scan`` checks and sorts every activity instead: the benchmark baseline.
        """

        def kind_wanted(pin: Pin) -> bool:
            if category is not None and pin.category != category:
                return False
            return needs <= pin.needs

        wanted = kind_wanted if category is not None or needs else None

        found: list[tuple[float, int]] = []
        if full_scan:
            found = self._scan_all(lat, lon, radius_km, now, wanted)
            total = len(found)
        else:
            self._leave_out_ended(now)
            total = self._grid.count(lat, lon, radius_km, wanted)
        page = max(0, min(page, (total - 1) // page_size)) if total else 0
        if not full_scan and total:
            found = self._grid.nearest(lat, lon, (page + 1) * page_size, wanted, radius_km)
        shown = found[page * page_size : (page + 1) * page_size]
        hits = [
            Hit(km, self.activities[item_id], self.groups[self.activities[item_id].group_id])
            for km, item_id in shown
        ]
        return Page(total, hits, page)

    def nearest_groups(
        self, lat: float, lon: float, k: int, max_km: float | None = None
    ) -> list[GroupHit]:
        """The ``k`` nearest groups and streams."""
        return [
            GroupHit(km, group)
            for km, _id, group in self._group_index.nearest(lat, lon, k, None, max_km)
        ]

    def next_occurrences(self, activity_id: int, now: datetime, count: int) -> list[Occurrence]:
        """The next ``count`` occurrences of an activity."""
        schedule = self.schedules.get(activity_id)
        return schedule.occurrences(now, count) if schedule else []

    def next_occurrence(self, activity_id: int, now: datetime) -> Occurrence | None:
        """The next occurrence (cached per activity)."""
        schedule = self.schedules.get(activity_id)
        return schedule.next(now) if schedule else None
