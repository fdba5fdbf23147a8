"""Finding a UK town by what a person typed, in many languages and with typos; and the
locator, which tries a postcode first."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from rapidfuzz import fuzz, process

from bot.places import cache
from bot.places.cache import GEONAMES_ATTRIBUTION, PlaceRecord
from bot.places.names import normalize_name, strip_country, useful_alternate
from bot.places.place import LocateResult, Place, Region, haversine_km
from bot.places.postcodes import Outcodes, looks_like_postcode
from bot.places.spatial import PointGrid

__all__ = ["Gazetteer", "Locator"]

_MAX_FUZZ_CHARS = 60  # longer queries are not fuzzed (no place name is that long)
_MIN_FUZZ_CHARS = 4
_AUTO_ACCEPT = 85.0  # fuzzy score needed to pick a place without asking
_CLEAR_LEAD = 6.0  # ...and how far ahead of the next place it must be
_SUGGEST = 70.0  # fuzzy score needed to suggest a place
_DOMINANCE = 20  # a candidate this many times more populous than the next one wins
_UNKNOWN_POPULATION = 500  # GeoNames 0 means "unknown"; the data set starts at 500

_EMPTY = LocateResult("empty")
_NOT_FOUND = LocateResult("not_found")


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
                if key and useful_alternate(alternate, key):
                    keys.add(key)
            for key in keys:
                exact.setdefault(key, []).append(index)
            words = name_key.split()
            for n in range(1, len(words)):
                prefix.setdefault(" ".join(words[:n]), []).append(index)
        self._exact = {k: tuple(v) for k, v in exact.items()}
        self._prefix = {k: tuple(v) for k, v in prefix.items()}
        self._choices = list(self._exact)
        # the places' positions, each point's kind its place (for the filters): built when
        # first asked
        self._towns: PointGrid[Place] | None = None
        self._all: PointGrid[Place] | None = None

    @classmethod
    def load(cls, cache_dir: Path) -> Gazetteer:
        """Load the towns from ``cache_dir``, building the cache file first if missing or stale."""
        return cls(cache.read_or_build(Path(cache_dir)))

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
        stripped, region = strip_country(key)
        if stripped != key:
            result = self._lookup(stripped, region, limit)
            if result is not None:
                return result
            key = stripped
        return self._fuzzy(key, region, limit)

    def nearby_town(self, place: Place, max_km: float = 60.0) -> Place | None:
        """The nearest larger town (≥ 50,000 people), to tell same-named places apart."""
        if self._towns is None:
            towns: PointGrid[Place] = PointGrid(cell_deg=0.5)
            for index, town in enumerate(self._places):
                if town.population >= 50_000:
                    towns.add(index, town.lat, town.lon, town)
            self._towns = towns
        hits = self._nearest(
            self._towns,
            place,
            1,
            lambda t: t.key != place.key and t.population > place.population,
            max_km,
        )
        return hits[0][1] if hits else None

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
        hits = self._nearest(
            self._towns, place, 40, lambda t: t.population > place.population, 60.0
        )
        close = [hit for hit in hits if hit[0] <= 40.0]
        if close:
            km, town = max(close, key=lambda h: h[1].population / (h[0] + 2.0) ** 2)
            return town, km
        if hits:
            return hits[0][1], hits[0][0]
        if self._all is None:
            self.region_at(place.lat, place.lon)
        assert self._all is not None
        floor = max(2 * place.population, 2 * _UNKNOWN_POPULATION)
        near = self._nearest(self._all, place, 1, lambda p: p.population >= floor, 80.0)
        return (near[0][1], near[0][0]) if near else None

    def region_at(self, lat: float, lon: float, max_km: float = 30.0) -> Region:
        """The nation ("ENG", "SCT", "WLS", "NIR") of the nearest place, "" when none is near."""
        if self._all is None:
            index: PointGrid[Place] = PointGrid(cell_deg=0.2)
            for i, place in enumerate(self._places):
                if place.region:
                    index.add(i, place.lat, place.lon, place)
            self._all = index
        hits = self._all.nearest(lat, lon, 1, None, max_km)
        return self._places[hits[0][1]].region if hits else ""

    # -- internals --------------------------------------------------------------------------

    def _nearest(
        self,
        grid: PointGrid[Place],
        place: Place,
        k: int,
        accept: Callable[[Place], bool],
        max_km: float,
    ) -> list[tuple[float, Place]]:
        """The ``k`` nearest places in ``grid`` that ``accept`` takes, with their distances."""
        hits = grid.nearest(place.lat, place.lon, k, accept, max_km)
        return [(km, self._places[index]) for km, index in hits]

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
