"""The spatial index: points on the sphere in a grid of cells (and bands of latitude), which
counts the points of accepted kinds within a radius and finds the nearest few."""

from __future__ import annotations

import heapq
import math
import struct
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress, repeat
from operator import add, getitem, mul, sub, truediv
from typing import Generic, NamedTuple, TypeVar

from bot.places.place import EARTH_RADIUS_KM

__all__ = ["Point", "PointGrid", "scan", "unit_vector"]

_Cell = tuple[int, int]
Point = tuple[float, float, float]  # on the unit sphere (``unit_vector``)
K = TypeVar("K")


def unit_vector(lat: float, lon: float) -> Point:
    """The point on the unit sphere at (lat, lon): what the grid keeps and measures."""
    rlat, rlon = math.radians(lat), math.radians(lon)
    cos_lat = math.cos(rlat)
    return cos_lat * math.cos(rlon), cos_lat * math.sin(rlon), math.sin(rlat)


# The least radius measured (a micrometre): a smaller one is taken as this. Within a radius
# far smaller, a chord squared by hand underflows (to 0 for points 1e-189 degrees apart) where
# math.dist does not, and ``count`` (math.dist) and ``nearest`` and ``scan`` (squares) would
# disagree about a point; from this radius up, the two ways agree.
LEAST_KM = 1e-9


def _chord_sq(km: float) -> float:
    """The squared chord between unit vectors ``km`` apart on the Earth (inverse of _chord_km)."""
    return (2 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2)) ** 2


def _chord_km(chord_sq: float) -> float:
    """Great-circle distance (km) from the squared chord between two unit vectors."""
    return _arc_km(math.sqrt(chord_sq))


def _arc_km(chord: float) -> float:
    """Great-circle distance (km) from the chord between two unit vectors."""
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord * 0.5))


def scan(
    points: Iterable[tuple[int, Point, K]],
    lat: float,
    lon: float,
    radius_km: float,
    accept: Callable[[K], bool] | None = None,
) -> list[tuple[float, int]]:
    """Every point (id, ``unit_vector``, kind) within ``radius_km`` whose kind ``accept``
    accepts, nearest first (ties by id), as ``(distance_km, id)``, by measuring each one: the
    reference that ``PointGrid`` answers as (in the tests, and the search's benchmark)."""
    qx, qy, qz = unit_vector(lat, lon)
    radius_km = max(radius_km, LEAST_KM)
    # squared chord of the radius, a little generous: the exact test is on the distance
    angle = min(radius_km / EARTH_RADIUS_KM, math.pi)
    max_sq = (2 * math.sin(angle / 2)) ** 2 * (1 + 1e-9) + 1e-15
    hits: list[tuple[float, int]] = []
    for item_id, (x, y, z), kind in points:
        dx, dy, dz = x - qx, y - qy, z - qz
        chord_sq = dx * dx + dy * dy + dz * dz
        if chord_sq <= max_sq:
            d = _chord_km(chord_sq)
            if d <= radius_km and (accept is None or accept(kind)):
                hits.append((d, item_id))
    hits.sort()
    return hits


def _box(
    c: float, lat: float, lon: float, radius_km: float
) -> tuple[int, int, list[tuple[int, int]]]:
    """The rows (``i_lo`` to ``i_hi``) and column ranges of the cells of ``c`` degrees that
    may hold points within ``radius_km`` (a non-negative radius)."""
    angle = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angle) + 1e-9
    lat_lo, lat_hi = lat - dlat, lat + dlat
    if angle >= math.pi / 2 or lat_lo <= -90.0 or lat_hi >= 90.0:
        lon_ranges = [(-180.0, 180.0)]
    else:
        dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(lat)))))
        lon_ranges = _wrap_lon(lon, dlon + 1e-9)
    i_lo = math.floor(max(lat_lo, -90.0) / c)
    i_hi = math.floor(min(lat_hi, 90.0) / c)
    return i_lo, i_hi, [(math.floor(lo / c), math.floor(hi / c)) for lo, hi in lon_ranges]


def _points(flat: Iterable[float]) -> Iterator[tuple[float, float, float]]:
    """The points of a flat (x, y, z, x, y, z...) array, one after another."""
    coords = iter(flat)
    return zip(coords, coords, coords, strict=True)


_FIRST_LOOK_KM = 4.0  # how far the nearest search looks first (0.5 to 8 measured)

# Rounding never decides whether a point counts: a cell or point this close to the circle's
# edge is measured (a chord of 1e-12 is about 6 micrometres on the Earth).
_SLACK = 1e-12


class _Packed(NamedTuple, Generic[K]):
    """A cell's points ready to count or search: the ball that holds them all (its centre and
    ``reach``), and the points sorted by their distance from the centre (``rho``), all
    together and kind by kind. Distances here are straight lines between unit vectors
    (chords): they order like distances on the Earth, and the triangle inequality holds for
    them. Points are kept in flat arrays (x, y, z, x, y, z...): a count reads them in a few
    cache lines, where the same points as tuples of floats would lie scattered."""

    x: float
    y: float
    z: float
    reach: float
    size: int
    rho: array[float]
    flat: array[float]
    ids: array[int]
    kinds: tuple[tuple[K, int, array[float], array[float], array[int]], ...]  # the same by kind


_STEP = 4096  # points a step of packing or sorting handles before the clock is looked at
# How many points may be put in or taken out of a packed cell or a sorted band, one at a time,
# beyond its size when it was packed (sorted), before it is packed (sorted) again whole: each
# such change moves the arrays after it (a copy in C), so a cell that grows from a few points
# to thousands is packed again rather than grown one point at a time.
_CHANGES_BEYOND_SIZE = 64
# Points taken out of one cell (band) at once from which the rest are kept in one pass over
# its arrays, rather than each taken out with a copy of the arrays after it.
_MANY = 64


def _packing(
    members: Mapping[int, K], point: Callable[[int], Point]
) -> Generator[None, None, _Packed[K]]:
    """Pack a cell's members (id: kind; ``point(id)`` gives each one's point), a step at a
    time: yields between steps of at most ``_STEP`` points, so that a crowded city's cell
    (tens of thousands of points, half a second at once) never stops the event loop long.
    A caller whose cell changes before the packing is done drops it."""
    ids = sorted(members)  # in order of id: the sort by distance below keeps ties by id
    yield
    kinds: list[K] = []
    # the points read into one flat array (x, y, z, x, y, z...): no object kept a point, so
    # a crowded city's cell does not hold tens of thousands of tuples while it is packed
    points = array("d")
    sums: list[list[float]] = [[], [], []]  # of x, y and z, a step at a time
    for start in range(0, len(ids), _STEP):
        some = array("d", chain.from_iterable(map(point, ids[start : start + _STEP])))
        points += some
        kinds += map(members.__getitem__, ids[start : start + _STEP])
        for n, total in enumerate(sums):
            total.append(math.fsum(some[n::3]))
        yield
    xs, ys, zs = map(math.fsum, sums)
    norm = math.sqrt(xs * xs + ys * ys + zs * zs)
    # points all around the sphere have no middle: any one of them will do
    centre = points[0], points[1], points[2]
    if norm >= 1e-9:
        centre = xs / norm, ys / norm, zs / norm
    rho: list[float] = []
    order = list(range(len(ids)))
    for start in range(0, len(ids), _STEP):
        some_points = _points(points[3 * start : 3 * (start + _STEP)])
        rho += map(math.dist, some_points, repeat(centre))
        order[start : start + _STEP] = sorted(order[start : start + _STEP], key=rho.__getitem__)
        yield
    # by distance, ties by id: the sort is stable and merges the runs sorted above (a few
    # passes over them, where one sort of the whole cell took a step ten times as long)
    order.sort(key=rho.__getitem__)
    yield
    by_kind: dict[K, list[int]] = {}
    for start in range(0, len(order), _STEP):
        for n in order[start : start + _STEP]:
            by_kind.setdefault(kinds[n], []).append(n)
        yield

    def arrays(run: list[int]) -> tuple[array[float], array[float], array[int]]:
        return (
            array("d", list(map(rho.__getitem__, run))),
            _gather(points, run),
            array("q", list(map(ids.__getitem__, run))),
        )

    packed_kinds = []
    done = 0
    for kind, run in by_kind.items():
        packed_kinds.append((kind, len(run), *arrays(run)))
        done += len(run)
        if done >= _STEP:
            done = 0
            yield
    whole_rho, whole_flat, whole_ids = array("d"), array("d"), array("q")
    for start in range(0, len(order), _STEP):
        run = order[start : start + _STEP]
        whole_rho.extend(list(map(rho.__getitem__, run)))
        whole_flat.extend(_gather(points, run))
        whole_ids.extend(list(map(ids.__getitem__, run)))
        yield
    return _Packed(
        *centre, whole_rho[-1], len(order), whole_rho, whole_flat, whole_ids, tuple(packed_kinds)
    )


def _gather(flat: array[float], run: list[int]) -> array[float]:
    """The points numbered ``run`` of a flat array, in that order, as a flat array."""
    starts = list(map(mul, run, _3))
    return array(
        "d",
        chain.from_iterable(map(getitem, repeat(flat), map(slice, starts, map(add, starts, _3)))),
    )


def _pack(members: Mapping[int, K], point: Callable[[int], Point]) -> _Packed[K]:
    """Pack a cell's members at once."""
    packing = _packing(members, point)
    while True:
        try:
            next(packing)
        except StopIteration as done:
            packed: _Packed[K] = done.value
            return packed


def _put_in(
    rho: array[float], flat: array[float], ids: array[int], r: float, point: Point, item_id: int
) -> None:
    """Put a point ``r`` from the centre into a run sorted by distance (then id)."""
    at = bisect_left(rho, r)
    while at < len(rho) and rho[at] == r and ids[at] < item_id:
        at += 1
    rho.insert(at, r)
    flat[3 * at : 3 * at] = array("d", point)
    ids.insert(at, item_id)


def _take_out(
    rho: array[float], flat: array[float], ids: array[int], r: float, item_id: int
) -> None:
    """Take a point ``r`` from the centre out of a run sorted by distance."""
    at = bisect_left(rho, r)
    while ids[at] != item_id:
        at += 1
    del rho[at], ids[at], flat[3 * at : 3 * at + 3]


def _with(packed: _Packed[K], item_id: int, kind: K, point: Point) -> _Packed[K]:
    """A packed cell with one more point: its arrays changed in place, the ball around the same
    centre grown to hold it (any centre will do, with a reach that holds every point)."""
    r = math.dist(point, (packed.x, packed.y, packed.z))
    _put_in(packed.rho, packed.flat, packed.ids, r, point, item_id)
    kinds = list(packed.kinds)
    for n, (same, size, rho, flat, ids) in enumerate(kinds):
        if same is kind or same == kind:
            _put_in(rho, flat, ids, r, point, item_id)
            kinds[n] = (same, size + 1, rho, flat, ids)
            break
    else:
        kinds.append((kind, 1, array("d", [r]), array("d", point), array("q", [item_id])))
    return packed._replace(reach=max(packed.reach, r), size=packed.size + 1, kinds=tuple(kinds))


def _without(packed: _Packed[K], item_id: int, kind: K, point: Point) -> _Packed[K]:
    """A packed cell with one point fewer (its reach, still holding every point, kept)."""
    r = math.dist(point, (packed.x, packed.y, packed.z))
    _take_out(packed.rho, packed.flat, packed.ids, r, item_id)
    kinds = list(packed.kinds)
    for n, (same, size, rho, flat, ids) in enumerate(kinds):
        if same is kind or same == kind:
            if size == 1:
                del kinds[n]
            else:
                _take_out(rho, flat, ids, r, item_id)
                kinds[n] = (same, size - 1, rho, flat, ids)
            break
    return packed._replace(size=packed.size - 1, kinds=tuple(kinds))


def _positions(keys: array[float], ids: array[int], gone: Iterable[tuple[float, int]]) -> list[int]:
    """Where the points (key, id) lie in a run sorted by key (a packed cell's distances from
    its centre, a band's longitudes), in order."""
    found = []
    for key, item_id in gone:
        at = bisect_left(keys, key)
        while ids[at] != item_id:
            at += 1
        found.append(at)
    found.sort()
    return found


_S = TypeVar("_S", "array[float]", "array[int]")


def _cut(values: _S, positions: list[int], width: int = 1) -> _S:
    """``values`` without the items at ``positions`` (in order; ``width`` values an item): the
    runs between them copied whole, so the cost is a step a point taken out, not one a point
    kept."""
    kept = values[:0]
    start = 0
    for at in positions:
        kept += values[start * width : at * width]
        start = at + 1
    kept += values[start * width :]
    return kept


def _keeping(packed: _Packed[K], gone: Iterable[tuple[int, K, Point]]) -> _Packed[K]:
    """A packed cell without the points ``gone`` (id, kind, point), each found by a bisection
    and the rest copied in runs (a crowded city's cell of 50,000 points loses thousands at the
    first search after start)."""
    centre = (packed.x, packed.y, packed.z)
    every: list[tuple[float, int]] = []
    by_kind: dict[K, list[tuple[float, int]]] = {}
    for item_id, kind, point in gone:
        entry = (math.dist(point, centre), item_id)
        every.append(entry)
        by_kind.setdefault(kind, []).append(entry)

    def kept(
        rho: array[float], flat: array[float], ids: array[int], out: list[tuple[float, int]]
    ) -> tuple[array[float], array[float], array[int]]:
        at = _positions(rho, ids, out)
        return _cut(rho, at), _cut(flat, at, 3), _cut(ids, at)

    kinds = []
    for kind, size, kind_rho, kind_flat, kind_ids in packed.kinds:
        out = by_kind.get(kind)
        if out is None:
            kinds.append((kind, size, kind_rho, kind_flat, kind_ids))
        elif len(out) < size:
            kinds.append((kind, size - len(out), *kept(kind_rho, kind_flat, kind_ids, out)))
    rho, flat, ids = kept(packed.rho, packed.flat, packed.ids, every)
    return packed._replace(size=len(ids), rho=rho, flat=flat, ids=ids, kinds=tuple(kinds))


class _Answers(dict[K, bool]):
    """A filter's answer for each kind, asked once per kind: ``answers[kind]`` (every kind is
    accepted when there is no filter)."""

    def __init__(self, accept: Callable[[K], bool] | None) -> None:
        super().__init__()
        self._accept = accept
        self.every_kind = accept is None

    def __missing__(self, kind: K) -> bool:
        answer = self[kind] = self._accept is None or self._accept(kind)
        return answer


def _within(rho: array[float], flat: array[float], away: float, query: Point, chord: float) -> int:
    """How many of a packed cell's points lie within ``chord`` of ``query``, which lies
    ``away`` from the cell's centre: by the triangle inequality, those nearer the centre than
    ``chord - away`` surely do and those nearer than ``away - chord`` surely do not (a
    bisection finds either run); only the rest are measured."""
    if away < chord:
        start = sure = bisect_left(rho, chord - _SLACK - away)
    else:
        start, sure = bisect_left(rho, away - chord - _SLACK), 0
    rest = flat[3 * start :] if start else flat
    return sure + sum(map(chord.__ge__, map(math.dist, _points(rest), repeat(query))))


_BANDS = 1500  # bands of latitude for searching without a filter, each 0.12 degrees (13 km)
# How far inside (outside) the circle lie the circles whose spans decide points in a band
# without measuring them (radians; 6 m): far more than the rounding of those spans, so a
# point the shortcut decides is never one the measurement would decide otherwise.
_BAND_MARGIN = 1e-6
_POLAR_LAT = 89.0  # circles reaching this near a pole are searched cell by cell
_3 = repeat(3)  # a point's three coordinates in a flat array
_BAND_NUMBERS = tuple(range(_BANDS))
_XYZ = struct.Struct("3d")  # a point packed as a band keeps it (native doubles: exact)


def _spans(
    cos_angle: float, sin_q: float, cos_q: float, sins: Sequence[float], coss: Sequence[float]
) -> list[float]:
    """Half the longitude span (degrees) of the circle of ``angle`` around a point at latitude
    q on each parallel (given by its sine and cosine); -1 on a parallel the circle misses."""
    return [
        math.degrees(math.acos(max(-1.0, v))) if v <= 1.0 else -1.0
        for v in map(
            truediv,
            map(sub, repeat(cos_angle), map(mul, sins, repeat(sin_q))),
            map(mul, coss, repeat(cos_q)),
        )
    ]


class _Bands:
    """Points in bands of latitude, each band sorted by longitude: how many lie within a
    circle, and the nearest few, without looking cell by cell.

    The circle is convex: in a band, every point whose longitude lies within the circle's span
    on both of the band's edges is inside, and none beyond its widest span in the band is; a
    bisection finds both runs and only the points between them are measured. Each step is one
    ``map`` over all the bands the circle covers, so a count runs a fixed number of loops in
    C, however many bands and points it covers.
    """

    def __init__(self) -> None:
        self._edges = array("d", [-90.0 + 180.0 * k / _BANDS for k in range(_BANDS)] + [90.0])
        self._sin = array("d", [math.sin(math.radians(edge)) for edge in self._edges])
        self._cos = array("d", [math.cos(math.radians(edge)) for edge in self._edges])
        # each band's points by id, each packed in 24 bytes (a 64-byte object, where a tuple
        # of three floats takes 160: 9.6 MB at national scale)
        self._members: dict[int, dict[int, bytes]] = {}
        self._band_of: dict[int, int] = {}
        # each band's longitudes in order, and its points (flat: x, y, z, x, y, z...) and their
        # ids in the same order (a change is put in its place; a band never sorted, or changed
        # by more than ``_CHANGES_BEYOND_SIZE`` beyond its size since, is sorted again when
        # next searched). Flat arrays, as the cells keep theirs: a band's points lie together
        # (measured twice as fast as tuples scattered over the heap), and sorting a band makes
        # no second set of point objects (which left 13 MB of holes in the heap at national
        # scale, never given back).
        self._lons: list[array[float]] = [array("d") for _ in range(_BANDS)]
        self._flats: list[array[float]] = [array("d") for _ in range(_BANDS)]
        self._ids: list[array[int]] = [array("q") for _ in range(_BANDS)]
        self._stale: set[int] = set()
        self._changes_left: dict[int, int] = {}  # of each sorted band, changes put in place
        self._sorting: tuple[int, Iterator[bool]] | None = None  # a sort under way

    def _band(self, lat: float) -> int:
        # one int object a band, shared by its points (not one each: 2.8 MB at national scale)
        return _BAND_NUMBERS[min(max(bisect_right(self._edges, lat) - 1, 0), _BANDS - 1)]

    def add(self, item_id: int, lat: float, lon: float, point: Point) -> None:
        """Add a point (its id not already here)."""
        band = self._band(lat)
        self._members.setdefault(band, {})[item_id] = _XYZ.pack(*point)
        self._band_of[item_id] = band
        if self._changed(band):
            lon_deg = math.degrees(math.atan2(point[1], point[0]))
            at = bisect_right(self._lons[band], lon_deg)
            self._lons[band].insert(at, lon_deg)
            self._flats[band][3 * at : 3 * at] = array("d", point)
            self._ids[band].insert(at, item_id)

    def point(self, item_id: int) -> Point:
        """The point of an id that is here."""
        x, y, z = _XYZ.unpack(self._members[self._band_of[item_id]][item_id])
        return x, y, z

    def remove(self, item_id: int) -> None:
        """Remove a point that is here."""
        band = self._band_of.pop(item_id)
        x, y, _z = _XYZ.unpack(self._members[band].pop(item_id))
        if self._changed(band):
            lons, ids = self._lons[band], self._ids[band]
            at = bisect_left(lons, math.degrees(math.atan2(y, x)))
            while ids[at] != item_id:
                at += 1
            del lons[at], ids[at], self._flats[band][3 * at : 3 * at + 3]

    def remove_many(self, item_ids: Iterable[int]) -> None:
        """Remove points that are here, many at once: a sorted band that loses many finds each
        by a bisection and keeps the rest in runs copied whole."""
        by_band: dict[int, set[int]] = {}
        for item_id in item_ids:
            by_band.setdefault(self._band_of[item_id], set()).add(item_id)
        for band, gone in by_band.items():
            if len(gone) < _MANY or band in self._stale:
                for item_id in gone:
                    self.remove(item_id)
                continue
            members = self._members[band]
            out = []
            for item_id in gone:
                del self._band_of[item_id]
                x, y, _z = _XYZ.unpack(members.pop(item_id))
                out.append((math.degrees(math.atan2(y, x)), item_id))
            at = _positions(self._lons[band], self._ids[band], out)
            self._lons[band] = _cut(self._lons[band], at)
            self._flats[band] = _cut(self._flats[band], at, 3)
            self._ids[band] = _cut(self._ids[band], at)

    def _changed(self, band: int) -> bool:
        """A band changes: True when the change is to be put in its place now (the band is
        sorted and has changes left), False when the band is to be sorted again whole."""
        left = self._changes_left.get(band, 0)
        if band not in self._stale and left > 0:
            self._changes_left[band] = left - 1
            return True
        self._stale.add(band)
        if self._sorting is not None and self._sorting[0] == band:
            self._sorting = None  # what it read has changed
        return False

    def settle(self, until: float = math.inf) -> bool:
        """Sort the bands that changed, a step at a time, until ``time.perf_counter()``
        passes ``until``; True when none is left to sort."""
        while self._stale and time.perf_counter() < until:
            if self._sorting is None:
                band = next(iter(self._stale))
                self._sorting = (band, self._sort(band))
            band, sorting = self._sorting
            if next(sorting, True):
                self._stale.discard(band)
                self._sorting = None
        return not self._stale

    def _sort(self, band: int) -> Iterator[bool]:
        """Sort a band whole, a step of at most ``_STEP`` points at a time (yields False
        between steps, True when done)."""
        members = self._members[band]
        ids = list(members)
        points = list(members.values())
        lons: list[float] = []
        for start in range(0, len(points), _STEP):
            some = array("d", b"".join(points[start : start + _STEP]))
            lons += map(math.degrees, map(math.atan2, some[1::3], some[0::3]))
            yield False
        order = sorted(range(len(ids)), key=lons.__getitem__)
        yield False
        sorted_lons, sorted_ids, sorted_flat = array("d"), array("q"), array("d")
        for start in range(0, len(order), _STEP):
            run = order[start : start + _STEP]
            sorted_lons.extend(list(map(lons.__getitem__, run)))
            sorted_ids.extend(list(map(ids.__getitem__, run)))
            sorted_flat.frombytes(b"".join(map(points.__getitem__, run)))
            yield False
        self._lons[band], self._ids[band], self._flats[band] = sorted_lons, sorted_ids, sorted_flat
        self._changes_left[band] = len(order) + _CHANGES_BEYOND_SIZE
        yield True

    def _cover(self, lat: float, lon: float, angle: float) -> tuple[int, int, float, float] | None:
        """The first and last bands a circle of ``angle`` (radians) around (lat, lon) covers,
        the longitude in [-180, 180) and the circle's widest half span (degrees); None for a
        circle reaching near a pole or across the antimeridian. Sorts those of its bands that
        changed (not the others: right after start, those are sorted in the background)."""
        reach = math.degrees(angle)
        if abs(lat) + reach >= _POLAR_LAT:
            return None
        widest = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
        lon = (lon + 180.0) % 360.0 - 180.0
        if lon - widest <= -180.0 or lon + widest >= 180.0:
            return None
        first, last = self._band(lat - reach), self._band(lat + reach)
        for band in self._stale.intersection(range(first, last + 1)):
            if self._sorting is not None and self._sorting[0] == band:
                self._sorting = None  # sorted whole here
            for _step in self._sort(band):
                pass
            self._stale.discard(band)
        return first, last, lon, widest

    def count(
        self, lat: float, lon: float, radius_km: float, query: Point, chord: float
    ) -> int | None:
        """How many points lie within ``chord`` of ``query`` (at ``lat``, ``lon``, with
        ``chord`` the straight line under ``radius_km``); None for a circle this does not count:
        one reaching near a pole or across the antimeridian."""
        angle = radius_km / EARTH_RADIUS_KM
        inner, outer = angle - _BAND_MARGIN, angle + _BAND_MARGIN
        cover = self._cover(lat, lon, outer)
        if cover is None:
            return None
        first, last, lon, widest = cover
        rlat = math.radians(lat)
        sin_q, cos_q = math.sin(rlat), math.cos(rlat)
        sins, coss = self._sin[first : last + 2], self._cos[first : last + 2]
        # each band's span: within both edges' spans of the inner circle, surely inside;
        # beyond the wider edge's span of the outer circle (its widest in the band holding
        # the latitude where it is widest), surely outside
        sure = (
            _spans(math.cos(inner), sin_q, cos_q, sins, coss) if inner > 0 else [-1.0] * len(sins)
        )
        maybe = _spans(math.cos(outer), sin_q, cos_q, sins, coss)
        sure_half = list(map(min, sure, sure[1:]))
        maybe_half = list(map(max, maybe, maybe[1:]))
        widest_at = self._band(math.degrees(math.asin(sin_q / math.cos(outer)))) - first
        if 0 <= widest_at < len(maybe_half):
            maybe_half[widest_at] = widest
        lons, flats = self._lons[first : last + 1], self._flats[first : last + 1]
        maybe_west = list(map(bisect_left, lons, map(sub, repeat(lon), maybe_half)))
        maybe_east = list(map(bisect_right, lons, map(add, repeat(lon), maybe_half)))
        west = list(map(min, map(bisect_left, lons, map(sub, repeat(lon), sure_half)), maybe_east))
        east = list(map(max, map(bisect_right, lons, map(add, repeat(lon), sure_half)), west))
        measured = chain.from_iterable(
            map(
                _points,
                chain(
                    map(getitem, flats, map(slice, map(mul, maybe_west, _3), map(mul, west, _3))),
                    map(getitem, flats, map(slice, map(mul, east, _3), map(mul, maybe_east, _3))),
                ),
            )
        )
        inside: int = sum(map(sub, east, west))
        return inside + sum(map(chord.__ge__, map(math.dist, measured, repeat(query))))

    def nearest(
        self, lat: float, lon: float, query: Point, k: int, reach_km: float, limit_sq: float
    ) -> list[tuple[float, int]] | None:
        """The ``k`` nearest points within ``reach_km`` (and a squared chord of ``limit_sq``),
        fewer if fewer are there, as (-squared chord, -id); None where ``count`` gives None.

        Every point in the bands the circle covers, within its widest span, is measured (in
        C); only the nearest few are then looked at one by one."""
        cover = self._cover(lat, lon, reach_km / EARTH_RADIUS_KM + _BAND_MARGIN)
        if cover is None:
            return None
        first, last, lon, widest = cover
        lons, flats = self._lons[first : last + 1], self._flats[first : last + 1]
        west = list(map(bisect_left, lons, repeat(lon - widest)))
        east = list(map(bisect_right, lons, repeat(lon + widest)))
        looked_at = chain.from_iterable(
            map(_points, map(getitem, flats, map(slice, map(mul, west, _3), map(mul, east, _3))))
        )
        chords = list(map(math.dist, looked_at, repeat(query)))
        # only points within the circle looked at count; of those, the k nearest (and any
        # that ties with the k-th, rounded differently) are ordered exactly
        cut = min(math.sqrt(_chord_sq(reach_km)), math.sqrt(limit_sq))
        if len(chords) > k:  # the k-th nearest, without sorting all (a city's bands: thousands)
            cut = min(cut, heapq.nsmallest(k, chords)[-1])
        sizes = list(map(sub, east, west))
        qx, qy, qz = query
        best = []
        for n in compress(range(len(chords)), map((cut + _SLACK).__ge__, chords)):
            band = 0
            while n >= sizes[band]:
                n -= sizes[band]
                band += 1
            at = west[band] + n
            flat = flats[band]
            dx, dy, dz = flat[3 * at] - qx, flat[3 * at + 1] - qy, flat[3 * at + 2] - qz
            d_sq = dx * dx + dy * dy + dz * dz
            if d_sq <= limit_sq:
                best.append((d_sq, self._ids[first + band][at]))
        best.sort()
        return [(-d_sq, -item_id) for d_sq, item_id in best[:k]]


class PointGrid(Generic[K]):
    """Points on a grid: how many of accepted kinds lie within a radius (without listing
    them), and the nearest few.

    Each cell keeps its points grouped by kind (a small, hashable description such as a
    category and its needs), so a filter is asked once per kind, never once per point. A cell
    whose points all lie inside the circle (by the triangle inequality, from the ball around
    the cell's points) is counted by kind alone, one wholly outside is skipped, and in a cell
    the circle's edge crosses only the points near the edge are measured, in one pass of
    C-level code (``_within``). The occupied cells are kept row by row, so the cells under a
    circle are found by a bisection in each of its rows, not by asking for every cell. Without
    a filter, the same points in bands of latitude (``_Bands``) count faster still: the
    circle's edge crosses some 16 cells, each looked at in Python, but its bands are counted
    all at once.

    The same packed cells give the nearest few of accepted kinds (``nearest``), and the bands
    the nearest few without a filter.
    """

    def __init__(self, cell_deg: float = 0.25) -> None:
        if not 0 < cell_deg <= 90:
            raise ValueError(f"cell_deg must be in (0, 90], got {cell_deg}")
        self._cell = cell_deg
        self._members: dict[_Cell, dict[int, K]] = {}  # the points are the bands' own
        self._where: dict[int, _Cell] = {}
        # each row's occupied columns in order, and each cell's points packed (None after a
        # change: packed again when next counted)
        self._rows: dict[int, tuple[list[int], list[_Packed[K] | None]]] = {}
        self._unpacked: set[_Cell] = set()  # cells not packed since they changed
        self._changes_left: dict[_Cell, int] = {}  # of each packed cell, changes put in place
        self._packing: tuple[_Cell, Generator[None, None, _Packed[K]]] | None = None
        self._cells: dict[_Cell, _Cell] = {}
        self._bands = _Bands()  # the same points by latitude, for searching without a filter

    def __len__(self) -> int:
        return len(self._where)

    def add(self, item_id: int, lat: float, lon: float, kind: K) -> None:
        """Add a point, replacing any point with the same id."""
        if not (-90.0 <= lat <= 90.0) or not math.isfinite(lon):
            raise ValueError(f"bad position for item {item_id}: {lat}, {lon}")
        self.remove(item_id)
        c = self._cell
        i, j = cell = (math.floor(lat / c), math.floor((((lon + 180.0) % 360.0) - 180.0) / c))
        cell = self._cells.setdefault(cell, cell)  # one tuple per cell, not one per point
        columns, packed = self._rows.setdefault(i, ([], []))
        at = bisect_left(columns, j)
        members = self._members.get(cell)
        if members is None:
            members = self._members[cell] = {}
            columns.insert(at, j)
            packed.insert(at, None)
        point = unit_vector(lat, lon)
        members[item_id] = kind
        self._where[item_id] = cell
        self._bands.add(item_id, lat, lon, point)
        cell_packed = packed[at]
        if self._changed(cell, cell_packed is not None):
            assert cell_packed is not None
            packed[at] = _with(cell_packed, item_id, kind, point)
        else:
            packed[at] = None

    def remove(self, item_id: int) -> None:
        """Remove a point; unknown ids are ignored."""
        cell = self._where.pop(item_id, None)
        if cell is None:
            return
        members = self._members[cell]
        kind = members.pop(item_id)
        point = self._bands.point(item_id)
        self._bands.remove(item_id)
        i, j = cell
        columns, packed = self._rows[i]
        at = bisect_left(columns, j)
        if members:
            cell_packed = packed[at]
            if self._changed(cell, cell_packed is not None):
                assert cell_packed is not None
                packed[at] = _without(cell_packed, item_id, kind, point)
            else:
                packed[at] = None
            return
        self._emptied(cell)

    def _emptied(self, cell: _Cell) -> None:
        """Forget a cell that holds no point any more."""
        self._changed(cell, False)
        self._unpacked.discard(cell)
        self._changes_left.pop(cell, None)
        i, j = cell
        columns, packed = self._rows[i]
        at = bisect_left(columns, j)
        del self._members[cell], self._cells[cell], columns[at], packed[at]
        if not columns:
            del self._rows[i]

    def remove_many(self, item_ids: Iterable[int]) -> None:
        """Remove many points at once (unknown ids are ignored): a packed cell (a sorted band)
        that loses many keeps the rest in one pass over its arrays, not one copy a point."""
        by_cell: dict[_Cell, list[int]] = {}
        for item_id in item_ids:
            cell = self._where.get(item_id)
            if cell is not None:
                by_cell.setdefault(cell, []).append(item_id)
        many = {cell: ids for cell, ids in by_cell.items() if len(ids) >= _MANY}
        for cell, ids in by_cell.items():
            if cell not in many:
                for item_id in ids:
                    self.remove(item_id)
        point = self._bands.point
        gone = {
            cell: [(item_id, self._members[cell][item_id], point(item_id)) for item_id in ids]
            for cell, ids in many.items()
        }
        self._bands.remove_many(chain.from_iterable(many.values()))
        for cell, out in gone.items():
            members = self._members[cell]
            for item_id, _kind, _point in out:
                del members[item_id], self._where[item_id]
            if not members:
                self._emptied(cell)
                continue
            i, j = cell
            columns, packed = self._rows[i]
            at = bisect_left(columns, j)
            cell_packed = packed[at]
            if cell_packed is None:
                self._changed(cell, False)
            else:
                packed[at] = _keeping(cell_packed, out)

    def _changed(self, cell: _Cell, packed: bool) -> bool:
        """A cell changes: True when the change is to be put into its packed points now (it is
        packed and has changes left), False when the cell is to be packed again whole."""
        left = self._changes_left.get(cell, 0)
        if packed and left > 0:
            self._changes_left[cell] = left - 1
            return True
        self._unpacked.add(cell)
        if self._packing is not None and self._packing[0] == cell:
            self._packing = None  # what it read has changed
        return False

    def _packed(self, cell: _Cell, packed: _Packed[K]) -> _Packed[K]:
        """Note a cell as packed whole."""
        self._unpacked.discard(cell)
        self._changes_left[cell] = packed.size + _CHANGES_BEYOND_SIZE
        if self._packing is not None and self._packing[0] == cell:
            self._packing = None
        return packed

    def settle(self, seconds: float = 0.02, only: Sequence[_Cell] | None = None) -> bool:
        """Pack changed cells and sort changed bands, a step at a time, for about ``seconds``
        ahead of the next search, so that a search after many changes (or after the first
        load) does not do it all at once; True when nothing is left to do. With ``only``
        (``unpacked_under``: the cells a search is about to need), those cells alone, once
        the cell being packed is done; True when they are packed."""
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            if self._packing is None:
                left = self._unpacked if only is None else (c for c in only if c in self._unpacked)
                cell = next(iter(left), None)
                if cell is None:
                    break
                self._packing = (cell, _packing(self._members[cell], self._bands.point))
            cell, packing = self._packing
            try:
                next(packing)
            except StopIteration as done:
                i, j = cell
                columns, packed = self._rows[i]
                packed[bisect_left(columns, j)] = self._packed(cell, done.value)
        if only is not None:
            return not any(cell in self._unpacked for cell in only)
        return self._bands.settle(until) and not self._unpacked

    def unpacked_under(self, lat: float, lon: float, radius_km: float) -> list[_Cell]:
        """The cells that may hold points within ``radius_km`` and are not packed yet: a
        search there would pack them on the spot (``settle`` can do it first, in steps)."""
        if not self._unpacked:
            return []
        return [
            self._cells[(i, columns[at])]
            for i, columns, packed, at in self._slots_under(lat, lon, radius_km)
            if packed[at] is None
        ]

    def _slots_under(
        self, lat: float, lon: float, radius_km: float
    ) -> Iterator[tuple[int, list[int], list[_Packed[K] | None], int]]:
        """Where the cells that may hold points within ``radius_km`` are kept: each one's row
        number, that row's columns and packed cells, and its place in them."""
        i_lo, i_hi, j_ranges = _box(self._cell, lat, lon, radius_km)
        for i in range(i_lo, i_hi + 1):
            row = self._rows.get(i)
            if row is None:
                continue
            columns, packed = row
            for j_lo, j_hi in j_ranges:
                for at in range(bisect_left(columns, j_lo), bisect_right(columns, j_hi)):
                    yield i, columns, packed, at

    def _under(self, lat: float, lon: float, radius_km: float) -> Iterator[_Packed[K]]:
        """The packed cells that may hold points within ``radius_km`` (non-negative)."""
        for i, columns, packed, at in self._slots_under(lat, lon, radius_km):
            cell = packed[at]
            if cell is None:
                whole = self._cells[(i, columns[at])]
                packing = _pack(self._members[whole], self._bands.point)
                cell = packed[at] = self._packed(whole, packing)
            yield cell

    def count(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        accept: Callable[[K], bool] | None = None,
    ) -> int:
        """How many points within ``radius_km`` have a kind that ``accept`` accepts (all, if
        None): the number a scan with that predicate finds."""
        if not radius_km >= 0:
            return 0
        radius_km = max(radius_km, LEAST_KM)
        query = qx, qy, qz = unit_vector(lat, lon)
        chord = math.sqrt(_chord_sq(radius_km))
        if accept is None:
            counted = self._bands.count(lat, lon, radius_km, query, chord)
            if counted is not None:
                return counted
        sqrt = math.sqrt
        answers = _Answers(accept)
        total = 0
        for x, y, z, reach, size, rho, flat, _ids, kinds in self._under(lat, lon, radius_km):
            away = sqrt((x - qx) ** 2 + (y - qy) ** 2 + (z - qz) ** 2)
            if away - reach > chord + _SLACK:
                continue
            inside = away + reach < chord - _SLACK
            if accept is None:
                total += size if inside else _within(rho, flat, away, query, chord)
                continue
            for kind, same, kind_rho, kind_flat, _kind_ids in kinds:
                if answers[kind]:
                    total += same if inside else _within(kind_rho, kind_flat, away, query, chord)
        return total

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int,
        accept: Callable[[K], bool] | None = None,
        max_km: float | None = None,
        first_km: float = 0.0,
    ) -> list[tuple[float, int]]:
        """The ``k`` nearest points (within ``max_km``) of accepted kinds, nearest first, ties
        by id, as ``(distance_km, item_id)``: what ``scan`` finds first.

        ``first_km`` is how far to look first (``_FIRST_LOOK_KM`` when 0): a caller that knows
        how many points lie within ``max_km`` can say where about k of them will be, so that a
        crowded city does not measure thousands of points to find five."""
        if k <= 0 or (max_km is not None and not max_km >= 0):
            return []
        if max_km is not None:
            max_km = max(max_km, LEAST_KM)
        radius_km = math.pi * EARTH_RADIUS_KM if max_km is None else max_km
        limit_sq = math.inf if max_km is None else _chord_sq(max_km)
        query = unit_vector(lat, lon)
        answers = _Answers(accept)
        # Look near first, then twice as far each time, until k are found within the distance
        # looked at (or the whole radius has been): a city's nearest few are found in the
        # first look, and a village's in a few rounds (twice as far measured faster than four
        # times, with or without a filter).
        reach_km = min(first_km if first_km > 0 else _FIRST_LOOK_KM, radius_km)
        while True:
            best = None
            if answers.every_kind:
                best = self._bands.nearest(lat, lon, query, k, reach_km, limit_sq)
            if best is None:
                best = self._nearest_within(lat, lon, query, k, answers, reach_km, limit_sq)
            if len(best) == k or reach_km >= radius_km:
                break
            reach_km = min(reach_km * 2, radius_km)
        return [(_chord_km(-nd), -nid) for nd, nid in sorted(best, reverse=True)]

    def _nearest_within(
        self,
        lat: float,
        lon: float,
        query: Point,
        k: int,
        answers: _Answers[K],
        reach_km: float,
        limit_sq: float,
    ) -> list[tuple[float, int]]:
        """The k nearest within ``reach_km`` (and a squared chord of ``limit_sq``), as a heap of
        (-squared chord, -id).

        Cells are taken by how near their points can be, until none can beat the k-th found.
        In a cell, only the points whose distance from its centre differs from the query's by
        less than the k-th found's distance can beat it: a bisection finds them, C code measures
        them, and only the nearest of those are looked at one by one."""
        qx, qy, qz = query
        sqrt, dist = math.sqrt, math.dist
        bound = min(sqrt(_chord_sq(reach_km)), sqrt(limit_sq))
        cells = []
        for cell in self._under(lat, lon, reach_km):
            away = sqrt((cell.x - qx) ** 2 + (cell.y - qy) ** 2 + (cell.z - qz) ** 2)
            if away - cell.reach <= bound + _SLACK:
                cells.append((away - cell.reach, away, cell))
        cells.sort(key=lambda entry: entry[0])
        best: list[tuple[float, int]] = []  # max-heap of the k best as (-squared chord, -id)
        for near, away, cell in cells:
            if near > bound + _SLACK:
                break  # this cell and every one after it are too far
            if answers.every_kind:
                runs = [(cell.rho, cell.flat, cell.ids)]
            else:
                runs = [
                    (rho, flat, ids) for kind, _n, rho, flat, ids in cell.kinds if answers[kind]
                ]
            for rho, flat, ids in runs:
                start = bisect_left(rho, away - bound - _SLACK)
                end = bisect_right(rho, away + bound + _SLACK)
                chords = list(map(dist, _points(flat[3 * start : 3 * end]), repeat(query)))
                for n in sorted(range(len(chords)), key=chords.__getitem__):
                    if chords[n] > bound + _SLACK:
                        break  # and every one after it in this run
                    at = start + n
                    # the squared chord worked out as ``scan`` does, for the same order
                    dx, dy, dz = flat[3 * at] - qx, flat[3 * at + 1] - qy, flat[3 * at + 2] - qz
                    d_sq = dx * dx + dy * dy + dz * dz
                    if d_sq > limit_sq:
                        continue
                    entry = (-d_sq, -ids[at])
                    if len(best) < k:
                        heapq.heappush(best, entry)
                    elif entry > best[0]:
                        heapq.heapreplace(best, entry)
                    else:
                        continue
                    if len(best) == k:
                        bound = sqrt(-best[0][0])
        return best


def _wrap_lon(lon: float, dlon: float) -> list[tuple[float, float]]:
    """Longitude intervals within ``dlon`` degrees of ``lon``, split at the antimeridian."""
    if dlon >= 180.0:
        return [(-180.0, 180.0)]
    centre = ((lon + 180.0) % 360.0) - 180.0
    lo, hi = centre - dlon, centre + dlon
    if lo < -180.0:
        return [(-180.0, hi), (lo + 360.0, 180.0)]
    if hi > 180.0:
        return [(lo, 180.0), (-180.0, hi - 360.0)]
    return [(lo, hi)]
