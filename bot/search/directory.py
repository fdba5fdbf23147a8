"""The activity and group directory kept in memory, and the nearby search over it.

Activities are read from SQLite once at start, in batches; after that only the activities
that changed are read again (a change counter the database keeps by trigger, checked by a job
and by the bot right after its own changes), each one updating its own entry and index cells.
The directory keeps only what a search and the results page need; the card reads the rest
from the database. A search costs no database call.
"""

from __future__ import annotations

import asyncio
import gc
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.domain.recurrence import Occurrence, Schedule
from bot.domain.vocabulary import Need
from bot.places.spatial import Point, PointGrid, scan, unit_vector
from storage.activities import ActivityRepository
from storage.db import from_db, to_db, utcnow
from storage.groups import GroupRepository
from storage.models import Activity, DirectoryRow, Group

CELL_DEG = 0.25
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Pin:
    """What the indexes need to filter an activity: its kind. Few activities differ in kind,
    so the count asks a filter once per kind, not once per activity."""

    category: str
    needs: frozenset[str]


@dataclass(frozen=True, slots=True)
class Listing:
    """What the directory keeps of a shown activity: what the search and the results page
    need (the card reads the rest from the database)."""

    id: int
    group_id: int
    title: str
    lat: float
    lon: float
    pin: Pin
    languages: tuple[str, ...]
    schedule: Schedule = field(compare=False, repr=False)  # compared apart (it caches)
    last_end: datetime | None = field(default=None, repr=False)  # None: an open series

    @property
    def category(self) -> str:
        """The activity's category."""
        return self.pin.category


@dataclass(frozen=True, slots=True)
class Hit:
    """An activity found near a point."""

    km: float
    activity: Listing
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


def activity_needs(activity: Activity | DirectoryRow) -> frozenset[str]:
    """The needs an activity meets, ``free`` included when it has no cost."""
    return activity.needs | {Need.FREE.value} if activity.is_free else activity.needs


def directory_row(activity: Activity, last_end: str | None = None) -> DirectoryRow:
    """What the directory reads of an activity, from a whole one (tests, benchmarks)."""
    return DirectoryRow(
        activity.id, activity.group_id, activity.title, activity.category, activity.lat,
        activity.lon, activity.starts_at, activity.duration_min, activity.rrule, activity.until,
        activity.languages, activity.needs, activity.is_free, activity.skips, last_end,
        activity.visible,
    )  # fmt: skip


LOAD_PAUSE = 0.005  # seconds between batches of a full load: a search gets the loop meanwhile
SETTLE_SLICE = 0.01  # seconds of packing ahead at a time, after the first load (and a step)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """A moment as whole microseconds since 1970 (exact, as an ``_Ends`` keeps it)."""
    return (moment - _EPOCH) // _MICROSECOND


class _Ends:
    """The activities with a last end, earliest end first (ties by id): two arrays of 8-byte
    numbers, where a list of (datetime, id) tuples and a dictionary by id took about 160
    bytes an activity (7 MB at national scale)."""

    def __init__(self) -> None:
        self.micros = array("q")  # each last end, in microseconds since 1970, in order
        self.ids = array("q")  # the activity of each, in the same order

    def __len__(self) -> int:
        return len(self.ids)

    def _at(self, micros: int, activity_id: int) -> int:
        """Where (micros, activity_id) is or would go."""
        low = bisect_left(self.micros, micros)
        return bisect_left(self.ids, activity_id, low, bisect_right(self.micros, micros, low))

    def add(self, end: datetime, activity_id: int) -> int:
        """Put an activity in its place; returns its position."""
        micros = _micros(end)
        at = self._at(micros, activity_id)
        self.micros.insert(at, micros)
        self.ids.insert(at, activity_id)
        return at

    def remove(self, end: datetime, activity_id: int) -> int:
        """Take out an activity that is here; returns where it was."""
        at = self._at(_micros(end), activity_id)
        del self.micros[at], self.ids[at]
        return at

    def ended_by(self, now: datetime) -> int:
        """How many end by ``now`` (they come first)."""
        return bisect_right(self.micros, _micros(now))


class _Schedules(Mapping[int, Schedule]):
    """The schedules of the listings, as a mapping by id (no second dictionary kept)."""

    def __init__(self, listings: dict[int, Listing]) -> None:
        self._listings = listings

    def __getitem__(self, activity_id: int) -> Schedule:
        return self._listings[activity_id].schedule

    def __iter__(self) -> Iterator[int]:
        return iter(self._listings)

    def __len__(self) -> int:
        return len(self._listings)


class Directory:
    """Shown activities and groups in memory, with spatial indexes."""

    def __init__(
        self,
        activities: ActivityRepository,
        groups: GroupRepository,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._activity_repo = activities
        self._group_repo = groups
        self._clock = clock  # the time of the first load: what is over by then stays out
        self._marks: tuple[int, int] | None = None  # the change counters last read
        self._reloading = asyncio.Lock()  # one reader at a time: a slower one never lands last
        self.activities: dict[int, Listing] = {}
        self.groups: dict[int, Group] = {}
        # A grid over the activities counts the matches by kind and finds the nearest few.
        # Activities whose last date has passed are taken out of it (and put back if asked
        # about an earlier time).
        self._grid: PointGrid[Pin] = PointGrid(CELL_DEG)
        self._ends = _Ends()  # the activities with a last end (kept on each listing too)
        self._ended = 0  # how many of _ends are out of the grid: those ending by _seen
        self._seen: datetime | None = None  # the time the last search asked about (or loaded)
        # every activity with its point and last end, for the full scan (the baseline)
        self._everything: list[tuple[int, Point, tuple[Pin, datetime | None]]] | None = None
        self._group_index: PointGrid[None] = PointGrid()
        # shared values: many activities have the same kind, languages, rule and zone
        self._shared: dict[object, object] = {}
        self._new_ends: list[tuple[int, str]] = []  # last ends worked out, not yet stored
        self._watchers: list[Callable[[int], None]] = []
        self._settling: asyncio.Task[None] | None = None  # packing ahead after the first load

    # -- reading from the database ---------------------------------------------------------

    async def refresh(self, force: bool = False) -> bool:
        """Apply what changed in the database since the last look (everything, the first
        time); True when something did. ``force`` is kept for callers that changed something
        themselves: the change is read at once either way, never the whole directory again."""
        async with self._reloading:
            if self._marks is None:
                await self._load_all()
                return True
            return await self._apply_changes()

    async def _load_all(self) -> None:
        """Read every shown activity, a batch at a time, letting searches run in between."""
        marks = await self._activity_repo.change_marks()  # before reading: nothing is missed
        self.load(await self._group_repo.all(), ())
        # What is over already never goes into the grid: the first search would take it out
        # again, thousands at once in a crowded city's cells.
        self._seen = self._clock()
        after = 0
        while rows := await self._activity_repo.directory_batch(after):
            for row in rows:
                self._put(row)
            after = rows[-1].id
            await self._store_ends()
            # What is loaded stays for the life of the bot: the garbage collector stops
            # looking through it (a full collection over a national directory's millions of
            # objects would stop everything for a second, again and again).
            gc.freeze()
            await asyncio.sleep(LOAD_PAUSE)
        self._marks = marks
        await self._apply_changes()  # what changed while this was reading
        # The bot answers from now on; the grid's cells are packed ahead in the background, a
        # slice at a time (a search that needs a cell not packed yet packs that one at once).
        self._settling = asyncio.create_task(self._settle(), name="directory-packing")

    async def _settle(self) -> None:
        settled = False
        while not settled:  # a slice at a time: a search gets the loop in between
            settled = self._grid.settle(SETTLE_SLICE)
            await asyncio.sleep(0)
        # What packing made (a national directory's cells and bands: some 30,000 arrays and
        # lists of 100,000 points) stays too: a full collection that looked through it again
        # would stop the bot for tens of milliseconds each time (see ``_load_all``).
        gc.freeze()

    async def ready_near(self, lat: float, lon: float, radius_km: float) -> None:
        """Pack the grid's cells a search within ``radius_km`` needs, a slice at a time with
        the loop given back in between: right after start, London's cells (55,000 activities
        in one) are not all packed yet, and the search itself would pack them in one go,
        stopping the bot for a quarter of a second. Nothing to do once packing ahead is done."""
        while cells := self._grid.unpacked_under(lat, lon, radius_km):
            self._grid.settle(SETTLE_SLICE, only=cells)
            await asyncio.sleep(0)

    async def search_ready(
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
    ) -> Page:
        """``search``, once the cells it needs are packed (``ready_near``): how the bot
        searches while it answers people."""
        await self.ready_near(lat, lon, radius_km)
        return self.search(
            lat, lon, radius_km, now, category, needs, page=page, page_size=page_size
        )

    async def settled(self) -> None:
        """Wait until the packing ahead that follows the first load is done (tests, bench)."""
        if self._settling is not None:
            await self._settling

    @property
    def packing_left(self) -> bool:
        """Whether some of the grid is still to be packed ahead of the searches."""
        return not self._grid.settle(0.0)

    def close(self) -> None:
        """Stop packing ahead (the bot is stopping)."""
        if self._settling is not None:
            self._settling.cancel()

    async def _apply_changes(self) -> bool:
        assert self._marks is not None
        mark, group_mark = self._marks
        new_mark, new_group_mark = await self._activity_repo.change_marks()
        changed = False
        if new_group_mark != group_mark:
            await self._reload_groups()
            changed = True
        while new_mark != mark:
            rows, removed, mark = await self._activity_repo.changed_since(mark)
            if not rows and not removed:
                break
            for row in rows:
                self._put(row)
            for activity_id in removed:
                self._drop(activity_id)
            changed = True
            await self._store_ends()
            await asyncio.sleep(0)
        self._marks = (max(mark, new_mark), new_group_mark)
        return changed

    async def _reload_groups(self) -> None:
        """Groups are few: read them all; the activities of a group that was verified,
        unverified or moved to another time zone are read again."""
        old = self.groups
        self._set_groups(await self._group_repo.all())
        moved = {
            g.id
            for g in self.groups.values()
            if (o := old.get(g.id)) is None or (o.verified, o.timezone) != (g.verified, g.timezone)
        } | (old.keys() - self.groups.keys())
        if not moved:
            return
        for activity_id in [a.id for a in self.activities.values() if a.group_id in moved]:
            self._drop(activity_id)
        after = 0
        while rows := await self._activity_repo.directory_batch(after, group_ids=moved):
            for row in rows:
                self._put(replace(row, last_end=None))  # worked out again in the new zone
            after = rows[-1].id
            await self._store_ends()

    async def _store_ends(self) -> None:
        ends, self._new_ends = self._new_ends, []
        if ends and self._activity_repo is not None:
            await self._activity_repo.store_last_ends(ends)

    async def activity(self, activity_id: int) -> Activity | None:
        """The whole activity, read from the database, when /find shows it."""
        if activity_id not in self.activities:
            return None
        return await self._activity_repo.shown(activity_id)

    async def activities_of_group(self, group_id: int) -> list[Activity]:
        """The whole activities of one group that /find shows, from the database."""
        found = await self._activity_repo.shown_of_group(group_id)
        return [a for a in found if a.id in self.activities]

    @property
    def schedules(self) -> Mapping[int, Schedule]:
        """Each shown activity's schedule, by id (kept on its listing)."""
        return _Schedules(self.activities)

    def watch(self, changed: Callable[[int], None]) -> None:
        """Have ``changed(activity_id)`` called whenever an activity is put in, moved or
        taken out (the reminder planner looks at it again)."""
        self._watchers.append(changed)

    # -- changing what is in memory ----------------------------------------------------------

    def load(self, groups: Iterable[Group], activities: Iterable[Activity | DirectoryRow]) -> None:
        """Replace the contents (also used by tests and benchmarks)."""
        self._set_groups(groups)
        self.activities = {}
        self._grid = PointGrid(CELL_DEG)
        self._ends, self._ended, self._seen = _Ends(), 0, None
        self._everything = None
        for activity in activities:
            self._put(activity if isinstance(activity, DirectoryRow) else directory_row(activity))
        self._new_ends = []

    def _set_groups(self, groups: Iterable[Group]) -> None:
        self.groups = {g.id: g for g in groups}
        group_index: PointGrid[None] = PointGrid(cell_deg=0.25)
        for group in self.groups.values():
            group_index.add(group.id, group.lat, group.lon, None)
        self._group_index = group_index

    def _share(self, value: _V) -> _V:
        """One object for equal values (kinds, languages, rules, zones)."""
        return self._shared.setdefault(value, value)  # type: ignore[return-value]

    def _put(self, row: DirectoryRow) -> None:
        """Add, move or take out one activity: its own entry and index cells, nothing else."""
        for changed in self._watchers:
            changed(row.id)
        group = self.groups.get(row.group_id)
        if not row.shown or group is None or not group.verified:
            self._drop(row.id)  # every public activity is traceable to a verified organiser
            return
        self._drop(row.id)
        share = self._share
        schedule = Schedule(
            row.starts_at,
            row.duration_min,
            share(row.rrule),
            row.until,
            share(group.timezone),
            share(row.skips),
        )
        pin = share(Pin(share(row.category), share(activity_needs(row))))
        last_end = self._last_end(row, schedule)
        self.activities[row.id] = Listing(
            row.id, row.group_id, row.title, row.lat, row.lon, pin, share(row.languages),
            schedule, last_end,
        )  # fmt: skip
        self._everything = None
        if last_end is not None:
            self._ends.add(last_end, row.id)
            if self._seen is not None and last_end <= self._seen:
                self._ended += 1  # among the ended, out of the grid
                return
        self._grid.add(row.id, row.lat, row.lon, pin)

    def _last_end(self, row: DirectoryRow, schedule: Schedule) -> datetime | None:
        """The stored last end, or worked out (once: it is then stored)."""
        if row.rrule is None or row.until is None:
            return schedule.last_end()  # a one-off's is its end; a series without a date's none
        if row.last_end is not None:
            return from_db(row.last_end) if row.last_end else None
        last_end = schedule.last_end()
        self._new_ends.append((row.id, to_db(last_end) if last_end is not None else ""))
        return last_end

    def _drop(self, activity_id: int) -> None:
        """Take an activity out of the directory (unknown ids are ignored)."""
        listing = self.activities.pop(activity_id, None)
        if listing is None:
            return
        self._everything = None
        if listing.last_end is not None:
            at = self._ends.remove(listing.last_end, activity_id)
            if at < self._ended:
                self._ended -= 1
                return  # it was out of the grid already
        self._grid.remove(activity_id)

    def _leave_out_ended(self, now: datetime) -> None:
        """Keep in the grid exactly the activities whose last date ends after ``now``."""
        ends, ended = self._ends.micros, self._ended
        self._seen = now
        moment = _micros(now)
        if (ended == len(ends) or ends[ended] > moment) and (
            not ended or ends[ended - 1] <= moment
        ):
            return  # as at the last search (nearly always)
        ended = self._ends.ended_by(now)
        # many at once after a while without searches (the first search after start takes
        # out every activity already over)
        self._grid.remove_many(self._ends.ids[self._ended : ended])
        for item_id in self._ends.ids[ended : self._ended]:
            activity = self.activities[item_id]
            self._grid.add(item_id, activity.lat, activity.lon, activity.pin)
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
            self._everything = [
                (item_id, unit_vector(a.lat, a.lon), (a.pin, a.last_end))
                for item_id, a in self.activities.items()
            ]

        def still(entry: tuple[Pin, datetime | None]) -> bool:
            return (entry[1] is None or entry[1] > now) and (wanted is None or wanted(entry[0]))

        return scan(self._everything, lat, lon, radius_km, still)

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
            k = (page + 1) * page_size
            # where about 4k of the matches lie, were they spread evenly: a first look there
            # finds the k nearest at once in a city, and looks further only where it is sparse
            first_km = radius_km * math.sqrt(min(1.0, 4 * k / total))
            found = self._grid.nearest(lat, lon, k, wanted, radius_km, first_km)
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
            GroupHit(km, self.groups[group_id])
            for km, group_id in self._group_index.nearest(lat, lon, k, None, max_km)
        ]

    def next_occurrences(self, activity_id: int, now: datetime, count: int) -> list[Occurrence]:
        """The next ``count`` occurrences of an activity."""
        listing = self.activities.get(activity_id)
        return listing.schedule.occurrences(now, count) if listing else []

    def next_occurrence(self, activity_id: int, now: datetime) -> Occurrence | None:
        """The next occurrence (cached per activity)."""
        listing = self.activities.get(activity_id)
        return listing.schedule.next(now) if listing else None
