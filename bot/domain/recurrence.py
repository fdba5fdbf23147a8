"""When activities happen: one-offs and RFC 5545 series expanded in the group's time zone.

A series keeps the UTC start of its first occurrence; it is expanded on local wall-clock time
so that 18:00 stays 18:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_REPEAT = re.compile(
    r"^(?:(?P<once>once)"
    r"|(?P<weekly>weekly|fortnightly):(?P<days>(?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*)"
    r"|monthly:(?P<nth>-1|[1-4])(?P<mday>MO|TU|WE|TH|FR|SA|SU))$"
)


class RepeatError(ValueError):
    """A repeat rule that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Repeat:
    """How a series repeats: kind is once, weekly, fortnightly or monthly."""

    kind: str
    days: tuple[int, ...] = ()  # weekday numbers, Monday = 0
    nth: int = 0  # monthly: 1..4, or -1 for the last

    @classmethod
    def parse(cls, text: str) -> Repeat:
        """Parse ``once``, ``weekly:MO,TH``, ``fortnightly:WE`` or ``monthly:1SA``."""
        kind, sep, rest = text.replace(" ", "").partition(":")
        match = _REPEAT.match(kind.lower() + sep + rest.upper())
        if not match:
            raise RepeatError(text)
        if match["once"]:
            return cls("once")
        if match["weekly"]:
            days = tuple(sorted({DAY_CODES.index(d) for d in match["days"].split(",")}))
            return cls(match["weekly"].lower(), days)
        return cls("monthly", (DAY_CODES.index(match["mday"]),), int(match["nth"]))

    @classmethod
    def from_rrule(cls, rule: str | None) -> Repeat:
        """Back from a stored RRULE (only the shapes this module writes)."""
        if not rule:
            return cls("once")
        parts = dict(p.split("=", 1) for p in rule.split(";"))
        byday = parts.get("BYDAY", "")
        if parts.get("FREQ") == "MONTHLY":
            nth, day = byday[:-2], byday[-2:]
            return cls("monthly", (DAY_CODES.index(day),), int(nth))
        kind = "fortnightly" if parts.get("INTERVAL") == "2" else "weekly"
        return cls(kind, tuple(DAY_CODES.index(d) for d in byday.split(",")))

    def to_rrule(self) -> str | None:
        """The RRULE stored for this repeat (None for a one-off)."""
        if self.kind == "once":
            return None
        if self.kind == "monthly":
            return f"FREQ=MONTHLY;BYDAY={self.nth}{DAY_CODES[self.days[0]]}"
        days = ",".join(DAY_CODES[d] for d in self.days)
        interval = ";INTERVAL=2" if self.kind == "fortnightly" else ""
        return f"FREQ=WEEKLY{interval};BYDAY={days}"

    def to_text(self) -> str:
        """The CSV form, as parsed by ``parse``."""
        if self.kind == "once":
            return "once"
        if self.kind == "monthly":
            return f"monthly:{self.nth}{DAY_CODES[self.days[0]]}"
        return f"{self.kind}:" + ",".join(DAY_CODES[d] for d in self.days)

    def matches(self, day: date) -> bool:
        """Whether a series with this repeat may start on ``day``."""
        if self.kind == "once":
            return True
        if day.weekday() not in self.days:
            return False
        if self.kind != "monthly":
            return True
        if self.nth == -1:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.nth


_RESTART_AFTER = timedelta(days=62)  # a last date is found from this long before it


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One time an activity takes place, in UTC."""

    start: datetime
    end: datetime


@lru_cache(maxsize=256)
def _template(rule: str) -> rrule:
    """A rule parsed once: each series is this with its own start (and last date) put in."""
    parsed = rrulestr(rule, dtstart=datetime(2000, 1, 3), cache=False)
    assert isinstance(parsed, rrule)
    return parsed


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo."""
    return ZoneInfo(name)


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """A local wall-clock time in ``tz`` as UTC (the earlier reading in a repeated hour)."""
    return datetime.combine(day, at, tzinfo=zone(tz)).astimezone(UTC)


# Series kept ready (an rrule is about 1.3 KB): each caller asks about the same series a few
# times in a row (the planner twice an activity, a results page once a hit), never again and
# again across thousands, so a few hundred do; 2,048 held 2.7 MB for nothing at national scale.
SERIES_KEPT = 256


@lru_cache(maxsize=SERIES_KEPT)
def _series_from(rule: str, start: datetime, until: date | None) -> rrule:
    """The series of ``rule`` from ``start`` (local, naive) to the end of ``until``: the few
    asked about lately are kept here, not one on every schedule."""
    last = datetime.combine(until, time(23, 59, 59)) if until else None
    return _template(rule).replace(dtstart=start, until=last)


@dataclass(slots=True)
class Schedule:
    """An activity's occurrences; caches the next occurrence (parsed rules are shared)."""

    starts_at: datetime
    duration_min: int
    rule: str | None
    until: date | None
    tz: str
    skips: frozenset[date] = frozenset()
    _next: Occurrence | None = field(default=None, init=False, repr=False)
    _next_after: datetime | None = field(default=None, init=False, repr=False)

    @property
    def duration(self) -> timedelta:
        """How long each occurrence lasts."""
        return timedelta(minutes=self.duration_min)

    def _starting(self, start: datetime) -> rrule:
        """The series from ``start`` (local, naive). Stored rules never hold an UNTIL: the
        last date is a column of its own."""
        assert self.rule is not None
        return _series_from(self.rule, start, self.until)

    def _series(self) -> rrule:
        return self._starting(self.starts_at.astimezone(zone(self.tz)).replace(tzinfo=None))

    def _series_near(self, cursor: datetime) -> rrule:
        """The series restarted whole periods later, in the period holding ``cursor`` (local,
        naive).

        dateutil walks every occurrence from the series' start to find the next one, so a
        weekly activity started years ago would cost more every week. Restarting it on the
        same weekday (whole weeks, whole fortnights) or at the start of a month keeps exactly
        the same later occurrences, because those rules only say which days in each period.
        """
        start = self._restart(cursor)
        return self._series() if start is None else self._starting(start)

    def _restart(self, cursor: datetime) -> datetime | None:
        """A start for the series in the period holding ``cursor``, when its rule allows."""
        assert self.rule is not None
        parts = dict(part.split("=", 1) for part in self.rule.upper().split(";") if "=" in part)
        if "COUNT" in parts or set(parts) - {"FREQ", "INTERVAL", "BYDAY", "WKST"}:
            return None
        interval = int(parts.get("INTERVAL", "1"))
        first = self.starts_at.astimezone(zone(self.tz)).replace(tzinfo=None)
        if parts.get("FREQ") == "WEEKLY":
            period = 7 * interval
            skip = (cursor.date() - first.date()).days // period * period
            return first + timedelta(days=skip) if skip > 0 else None
        if parts.get("FREQ") == "MONTHLY" and "BYDAY" in parts:
            months = (cursor.year - first.year) * 12 + cursor.month - first.month
            skip = months // interval * interval
            if skip <= 0:
                return None
            index = first.month - 1 + skip
            return first.replace(year=first.year + index // 12, month=index % 12 + 1, day=1)
        return None

    def occurrences(self, after: datetime, count: int) -> list[Occurrence]:
        """Up to ``count`` occurrences that have not ended by ``after``, earliest first."""
        found: list[Occurrence] = []
        if self.rule is None:
            end = self.starts_at + self.duration
            if end > after:
                found.append(Occurrence(self.starts_at, end))
            return found
        tz = zone(self.tz)
        # Start looking one duration back so an occurrence in progress still counts.
        cursor = (after - self.duration).astimezone(tz).replace(tzinfo=None)
        series = self._series_near(cursor)
        guard = 0
        while len(found) < count and guard < count + len(self.skips) + 1:
            guard += 1
            nxt = series.after(cursor, inc=False)
            if nxt is None:
                break
            cursor = nxt
            if nxt.date() in self.skips:
                continue
            start = nxt.replace(tzinfo=tz).astimezone(UTC)
            end = start + self.duration
            if end > after:
                found.append(Occurrence(start, end))
        return found

    def next(self, after: datetime) -> Occurrence | None:
        """The next occurrence not ended by ``after``; cached until it ends."""
        cached, since = self._next, self._next_after
        if cached is not None and since is not None and since <= after < cached.end:
            return cached
        found = self.occurrences(after, 1)
        self._next = found[0] if found else None
        self._next_after = after
        return self._next

    def last_end(self) -> datetime | None:
        """When the last occurrence ends, or None for an open-ended series."""
        if self.rule is None:
            return self.starts_at + self.duration
        if self.until is None:
            return None
        # the series restarted a while before its last date has the same last occurrence
        # (expanding it from its first date costs more the longer it has run)
        near = self._restart(datetime.combine(self.until, time(23, 59, 59)) - _RESTART_AFTER)
        found = list(self._starting(near)) if near is not None else []
        if not found:
            found = list(self._series())
        last = found[-1] if found else None
        if last is None:
            return self.starts_at + self.duration
        return last.replace(tzinfo=zone(self.tz)).astimezone(UTC) + self.duration
