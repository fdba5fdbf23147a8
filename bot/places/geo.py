"""The old home of the places code, kept so that branches written before the split still
import: new code imports from the module that holds each name (place, names, postcodes, cache,
gazetteer, spatial). To be deleted once those branches are merged."""

from bot.places.cache import GEONAMES_ATTRIBUTION
from bot.places.gazetteer import Gazetteer, Locator
from bot.places.names import normalize_name
from bot.places.place import (
    AREA_KM,
    EARTH_RADIUS_KM,
    KM_PER_DEGREE,
    LocateResult,
    Place,
    haversine_km,
    round_area,
    valid_uk_coordinates,
)
from bot.places.postcodes import OUTCODES_ATTRIBUTION, Outcodes, looks_like_postcode
from bot.places.spatial import PointGrid

__all__ = [
    "AREA_KM",
    "EARTH_RADIUS_KM",
    "GEONAMES_ATTRIBUTION",
    "KM_PER_DEGREE",
    "OUTCODES_ATTRIBUTION",
    "Gazetteer",
    "LocateResult",
    "Locator",
    "Outcodes",
    "Place",
    "PointGrid",
    "haversine_km",
    "looks_like_postcode",
    "normalize_name",
    "round_area",
    "valid_uk_coordinates",
]
