"""The activity and group directory kept in memory, and the nearby search over it.

Activities and groups are read from SQLite once and again only when they change (a cheap
fingerprint is checked by a job), so a search costs no database call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain import Need
from bot.geo import SpatialIndex
from bot.recurrence import Occurrence, Schedule
from storage.activities import ActivityRepository
from storage.groups import GroupRepository
from storage.models import Activity, Group


@dataclass(frozen=True, slots=True)
class Pin:
    """What the index needs to filter an activity without touching the database."""

    category: str
    needs: frozenset[str]
    last_end: datetime | None


@dataclass(frozen=True, slots=True)
class Hit:
    """An activity found near a point."""

    km: float
    activity: Activity
    group: Group


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
        self.activities: dict[int, Activity] = {}
        self.groups: dict[int, Group] = {}
        self.schedules: dict[int, Schedule] = {}
        self._index: SpatialIndex[Pin] = SpatialIndex()
        self._group_index: SpatialIndex[Group] = SpatialIndex()

    async def refresh(self, force: bool = False) -> bool:
        """Reload from the database when it changed; True when something was reloaded."""
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
        index: SpatialIndex[Pin] = SpatialIndex()
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
            pin = Pin(activity.category, activity_needs(activity), schedule.last_end())
            index.add(activity.id, activity.lat, activity.lon, pin)
        group_index: SpatialIndex[Group] = SpatialIndex(cell_deg=0.25)
        for group in self.groups.values():
            group_index.add(group.id, group.lat, group.lon, group)
        self._index = index
        self._group_index = group_index

    def search(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        now: datetime,
        category: str | None = None,
        needs: frozenset[str] = frozenset(),
        *,
        full_scan: bool = False,
    ) -> list[Hit]:
        """Activities within ``radius_km`` that still take place, nearest first.

        ``full_scan`` checks every activity instead of the grid: the benchmark's baseline.
        """

        def wanted(pin: Pin) -> bool:
            if pin.last_end is not None and pin.last_end <= now:
                return False
            if category is not None and pin.category != category:
                return False
            return needs <= pin.needs

        lookup = self._index.scan if full_scan else self._index.within
        return [
            Hit(km, self.activities[item_id], self.groups[self.activities[item_id].group_id])
            for km, item_id, _pin in lookup(lat, lon, radius_km, wanted)
        ]

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
