"""UK postcodes: what a typed postcode's district is, and the districts' centres (from the
operator's CSV, ONS data)."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from bot.places.place import Place, Region, valid_uk_coordinates

__all__ = ["OUTCODES_ATTRIBUTION", "Outcodes", "looks_like_postcode"]

OUTCODES_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025; "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025; "
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0"
)


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
