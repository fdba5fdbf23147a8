"""Dataclasses the repositories return: plain values, no SQL, no Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class User:
    """A person using the bot: only what the bot needs, nothing about who they are."""

    id: int
    locale: str | None
    intent: str | None
    area_lat: float | None
    area_lon: float | None
    area_label: str | None
    created_at: datetime
    updated_at: datetime
    remind_day_before: bool = True
    remind_hour_before: bool = True
    weekly_digest: bool = False
    last_seen_at: datetime | None = None
    retention_asked_at: datetime | None = None

    @property
    def has_area(self) -> bool:
        """Whether the person chose to save their (rounded) area."""
        return self.area_lat is not None and self.area_lon is not None


@dataclass(frozen=True, slots=True)
class GroupData:
    """A group or stream as imported or edited, before it has an id."""

    ref: str
    name: str
    kind: str
    stream: str | None
    town: str
    nation: str
    lat: float
    lon: float
    email: str | None = None
    website: str | None = None
    phone: str | None = None
    telegram: str | None = None
    description: str = ""
    timezone: str = "Europe/London"


@dataclass(frozen=True, slots=True)
class Group:
    """A City of Sanctuary group or a Stream of Sanctuary place."""

    id: int
    ref: str
    name: str
    kind: str
    stream: str | None
    town: str
    nation: str
    lat: float
    lon: float
    email: str | None
    website: str | None
    phone: str | None
    telegram: str | None
    description: str
    timezone: str
    verified: bool


@dataclass(frozen=True, slots=True)
class ActivityData:
    """A welcoming activity as imported or posted, before it has an id."""

    ref: str | None
    group_ref: str
    title: str
    category: str
    description: str
    venue: str
    address: str
    postcode: str
    lat: float
    lon: float
    starts_at: datetime
    duration_min: int
    rrule: str | None
    until: date | None
    languages: tuple[str, ...]
    cost: str | None
    needs: frozenset[str]
    contact: str


@dataclass(frozen=True, slots=True)
class Activity:
    """A welcoming activity of a group, with its schedule."""

    id: int
    ref: str | None
    group_id: int
    title: str
    category: str
    description: str
    venue: str
    address: str
    postcode: str
    lat: float
    lon: float
    starts_at: datetime
    duration_min: int
    rrule: str | None
    until: date | None
    languages: tuple[str, ...]
    cost: str | None
    needs: frozenset[str]
    contact: str
    status: str
    created_by: int | None
    updated_at: datetime
    skips: frozenset[date] = field(default_factory=frozenset)
    paused: bool = False
    stale_since: datetime | None = None
    moderated: bool = False
    moderation_note: str | None = None
    confirmed_at: datetime | None = None  # last "still running", or when it was posted

    @property
    def visible(self) -> bool:
        """Whether /find shows it: published, not paused, not hidden for want of an answer."""
        return self.status == "published" and not self.paused and self.stale_since is None

    @property
    def is_free(self) -> bool:
        """Free when no cost is given."""
        return not self.cost


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    """What the search directory reads of an activity: where, what kind, when, its title, and
    whether /find shows it. ``last_end`` is the stored end of a series' last occurrence: None
    when not worked out yet, ``""`` when the series has no last date."""

    id: int
    group_id: int
    title: str
    category: str
    lat: float
    lon: float
    starts_at: datetime
    duration_min: int
    rrule: str | None
    until: date | None
    languages: tuple[str, ...]
    needs: frozenset[str]
    is_free: bool
    skips: frozenset[date]
    last_end: str | None
    shown: bool
