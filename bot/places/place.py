"""A place (a town or a postcode district), what a place search finds, and distances."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AREA_KM",
    "EARTH_RADIUS_KM",
    "KM_PER_DEGREE",
    "LocateResult",
    "Place",
    "Region",
    "haversine_km",
    "round_area",
    "valid_uk_coordinates",
]

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180

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
