"""Callback data: short, versionless strings parsed strictly. Never trusted: a value that
does not parse is treated as an expired menu, and permissions are checked again by handlers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass, replace

from bot.domain import Category, Need

NEED_ORDER: tuple[Need, ...] = tuple(Need)
_CATEGORIES = {c.value for c in Category}
MAX_PAGE = 500


class Expired(ValueError):
    """Callback data that is stale, forged or from an older version of the bot."""


def _int(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise Expired(text) from None
    if not low <= value <= high:
        raise Expired(text)
    return value


@dataclass(frozen=True, slots=True)
class SearchState:
    """A search: a point rounded to 0.01° (about 1 km), filters and the page shown."""

    lat: int  # hundredths of a degree
    lon: int
    category: str | None = None
    needs: int = 0  # bit mask over NEED_ORDER
    page: int = 0

    @classmethod
    def at(cls, lat: float, lon: float) -> SearchState:
        """A new search around a point (rounded here: nothing finer travels in buttons)."""
        return cls(round(lat * 100), round(lon * 100))

    @property
    def point(self) -> tuple[float, float]:
        """The search point in degrees."""
        return self.lat / 100, self.lon / 100

    @property
    def need_set(self) -> frozenset[str]:
        """The needs filters as codes."""
        return frozenset(n.value for i, n in enumerate(NEED_ORDER) if self.needs & (1 << i))

    def toggle(self, need: Need) -> SearchState:
        """The same search with one needs filter switched, back on the first page."""
        return replace(self, needs=self.needs ^ (1 << NEED_ORDER.index(need)), page=0)

    def with_category(self, category: str | None) -> SearchState:
        """The same search for another category, back on the first page."""
        return replace(self, category=category, page=0)

    def at_page(self, page: int) -> SearchState:
        """The same search on another page."""
        return replace(self, page=max(0, min(page, MAX_PAGE)))

    def encode(self) -> str:
        """As text for callback data."""
        return f"{self.lat}:{self.lon}:{self.category or '-'}:{self.needs}:{self.page}"

    @classmethod
    def decode(cls, parts: list[str]) -> SearchState:
        """From the five fields written by ``encode``."""
        if len(parts) != 5:
            raise Expired(":".join(parts))
        category = None if parts[2] == "-" else parts[2]
        if category is not None and category not in _CATEGORIES:
            raise Expired(parts[2])
        return cls(
            lat=_int(parts[0], 4900, 6100),
            lon=_int(parts[1], -900, 200),
            category=category,
            needs=_int(parts[3], 0, (1 << len(NEED_ORDER)) - 1),
            page=_int(parts[4], 0, MAX_PAGE),
        )


def split(data: str | None) -> tuple[str, list[str]]:
    """The prefix and fields of callback data."""
    if not data or len(data.encode()) > 64:
        raise Expired(data or "")
    prefix, _, rest = data.partition(":")
    return prefix, rest.split(":") if rest else []


def positive_id(text: str) -> int:
    """A database id from callback data."""
    return _int(text, 1, 2**62)


def verb_and_id(data: str | None, verbs: Collection[str]) -> tuple[str, int]:
    """``<prefix>:<verb>:<id>`` with one of ``verbs``: the verb and the database id."""
    _prefix, fields = split(data)
    if len(fields) != 2 or fields[0] not in verbs:
        raise Expired(data or "")
    return fields[0], positive_id(fields[1])


def signature(key: bytes, *parts: object) -> str:
    """A short signature of ``parts`` (8 bytes of HMAC-SHA256, 11 URL-safe characters): a
    button that carries it was made by the bot for exactly these parts (say, this person
    and this activity)."""
    mac = hmac.new(key, ":".join(map(str, parts)).encode(), hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def check_signature(key: bytes, signed: str, *parts: object) -> None:
    """Raise Expired unless ``signed`` is the signature of ``parts``."""
    if not hmac.compare_digest(signed.encode(), signature(key, *parts).encode()):
        raise Expired(signed)
