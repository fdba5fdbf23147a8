"""Schedules: one-offs, weekly, fortnightly and monthly series across daylight saving."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrule, rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import recurrence
from bot.domain.recurrence import Repeat, RepeatError, Schedule, local_to_utc, zone

LONDON = "Europe/London"


def test_repeat_round_trip() -> None:
    for text in (
        "once",
        "weekly:MO",
        "weekly:TU,TH",
        "fortnightly:WE",
        "monthly:1SA",
        "monthly:-1FR",
    ):
        repeat = Repeat.parse(text)
        assert repeat.to_text() == text
        assert Repeat.from_rrule(repeat.to_rrule()) == repeat


@pytest.mark.parametrize(
    "bad", ["", "daily", "weekly:", "weekly:XX", "monthly:5SA", "monthly:SA", "weekly:MO;DROP"]
)
def test_repeat_rejects(bad: str) -> None:
    with pytest.raises(RepeatError):
        Repeat.parse(bad)


def test_repeat_matches_days() -> None:
    assert Repeat.parse("monthly:1SA").matches(date(2026, 11, 7))
    assert not Repeat.parse("monthly:1SA").matches(date(2026, 11, 14))
    assert Repeat.parse("monthly:-1FR").matches(date(2026, 11, 27))
    assert not Repeat.parse("monthly:-1FR").matches(date(2026, 11, 20))
    assert Repeat.parse("weekly:TU,TH").matches(date(2026, 11, 26))


def test_weekly_keeps_local_time_across_dst() -> None:
    # Tuesdays 18:00 London from 3 March 2026: BST starts 29 March, ends 25 October.
    start = local_to_utc(date(2026, 3, 3), time(18), LONDON)
    schedule = Schedule(start, 120, "FREQ=WEEKLY;BYDAY=TU", None, LONDON)
    occ = schedule.occurrences(datetime(2026, 3, 20, tzinfo=UTC), 3)
    assert [o.start for o in occ] == [
        datetime(2026, 3, 24, 18, tzinfo=UTC),  # GMT
        datetime(2026, 3, 31, 17, tzinfo=UTC),  # BST: still 18:00 local
        datetime(2026, 4, 7, 17, tzinfo=UTC),
    ]
    autumn = schedule.occurrences(datetime(2026, 10, 19, tzinfo=UTC), 2)
    assert [o.start.hour for o in autumn] == [17, 18]


def test_in_progress_occurrence_counts_and_skips_are_skipped() -> None:
    start = local_to_utc(date(2026, 11, 3), time(18), LONDON)
    schedule = Schedule(
        start, 120, "FREQ=WEEKLY;BYDAY=TU", None, LONDON, frozenset({date(2026, 11, 17)})
    )
    during = datetime(2026, 11, 10, 19, tzinfo=UTC)
    occ = schedule.occurrences(during, 2)
    assert occ[0].start == datetime(2026, 11, 10, 18, tzinfo=UTC)
    assert occ[1].start == datetime(2026, 11, 24, 18, tzinfo=UTC)  # the 17th is skipped


def test_fortnightly_monthly_and_until() -> None:
    start = local_to_utc(date(2026, 11, 4), time(10), LONDON)
    fortnightly = Schedule(start, 60, "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", date(2026, 12, 2), LONDON)
    got = fortnightly.occurrences(datetime(2026, 11, 1, tzinfo=UTC), 5)
    assert [o.start.date() for o in got] == [
        date(2026, 11, 4),
        date(2026, 11, 18),
        date(2026, 12, 2),
    ]
    assert fortnightly.last_end() == datetime(2026, 12, 2, 11, tzinfo=UTC)
    monthly = Schedule(
        local_to_utc(date(2026, 11, 7), time(11), LONDON),
        60,
        "FREQ=MONTHLY;BYDAY=1SA",
        None,
        LONDON,
    )
    got = monthly.occurrences(datetime(2026, 11, 8, tzinfo=UTC), 2)
    assert [o.start.date() for o in got] == [date(2026, 12, 5), date(2027, 1, 2)]
    assert monthly.last_end() is None


def test_one_off_and_next_cache() -> None:
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    one = Schedule(start, 90, None, None, LONDON)
    assert one.next(datetime(2026, 11, 1, tzinfo=UTC)) is not None
    assert one.next(datetime(2026, 12, 1, 11, 29, tzinfo=UTC)) is not None
    assert one.next(datetime(2026, 12, 1, 11, 31, tzinfo=UTC)) is None
    assert one.last_end() == datetime(2026, 12, 1, 11, 30, tzinfo=UTC)


def _walked(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next starts the slow way: every occurrence from the series' first one."""
    assert schedule.rule is not None
    tz = zone(schedule.tz)
    first = schedule.starts_at.astimezone(tz).replace(tzinfo=None)
    series = rrulestr(schedule.rule, dtstart=first)
    assert isinstance(series, rrule)
    if schedule.until is not None:
        series = series.replace(until=datetime.combine(schedule.until, time(23, 59, 59)))
    found = []
    for start in series:
        if start.date() in schedule.skips:
            continue
        utc = start.replace(tzinfo=tz).astimezone(UTC)
        if utc + schedule.duration > after:
            found.append(utc)
            if len(found) == count:
                break
    return found


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=TU",
        "FREQ=WEEKLY;BYDAY=MO,TH,SU",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU",
        "FREQ=MONTHLY;BYDAY=1SA",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=2MO",
        "FREQ=DAILY;INTERVAL=3",  # not restarted: walked from the start
    ],
)
@settings(max_examples=25)
@given(
    first=st.builds(
        lambda days, quarters: (
            datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=days, minutes=15 * quarters)
        ),
        st.integers(0, 699),
        st.integers(0, 95),
    ),
    duration=st.sampled_from([60, 120, 600]),
    last_after_days=st.none() | st.integers(400, 1399),
    tz=st.sampled_from([LONDON, "America/New_York"]),
    skipped=st.lists(st.integers(0, 399), max_size=8, unique=True),
    asked=st.lists(st.tuples(st.integers(-30, 1499), st.integers(0, 23)), min_size=1, max_size=6),
)
def test_old_series_give_the_same_dates_as_walking_from_the_start(
    rule: str,
    first: datetime,
    duration: int,
    last_after_days: int | None,
    tz: str,
    skipped: list[int],
    asked: list[tuple[int, int]],
) -> None:
    """A series started years ago is restarted near the asked time: the dates must not move,
    across daylight saving, skipped dates, a last date, and asking again later or earlier."""
    last = None if last_after_days is None else (first + timedelta(days=last_after_days)).date()
    schedule = Schedule(first, duration, rule, last, tz)
    walked_all = _walked(schedule, first, 400)
    schedule.skips = frozenset(walked_all[i].date() for i in skipped if i < len(walked_all))
    for days, hours in asked:  # one after another, later or earlier
        after = first + timedelta(days=days, hours=hours)
        got = [o.start for o in schedule.occurrences(after, 4)]
        assert got == _walked(schedule, after, 4), (rule, first, after)
        nxt = schedule.next(after)
        assert (nxt.start if nxt else None) == (got[0] if got else None)


@pytest.mark.parametrize("seed", range(4))
def test_last_end_is_the_whole_series_last(seed: int) -> None:
    """The last end, found from a little before the last date, is the one expanding the whole
    series from its first date gives (weekly, fortnightly, monthly, long and short series)."""
    rng = random.Random(seed)
    rules = ["FREQ=WEEKLY;BYDAY=TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
             "FREQ=MONTHLY;BYDAY=-1SU", "FREQ=MONTHLY;BYDAY=2WE"]  # fmt: skip
    for _ in range(60):
        first = datetime(2024, 1, 1, 9, tzinfo=UTC) + timedelta(
            days=rng.randrange(700), hours=rng.randrange(12)
        )
        rule = rng.choice(rules)
        until = (first + timedelta(days=rng.randrange(0, 900))).date()
        schedule = Schedule(first, 90, rule, until, "Europe/London")
        local = first.astimezone(zone(LONDON)).replace(tzinfo=None)
        whole = list(
            rrulestr(rule, dtstart=local).replace(until=datetime.combine(until, time(23, 59, 59)))
        )
        expected = (
            whole[-1].replace(tzinfo=zone(LONDON)).astimezone(UTC) + timedelta(minutes=90)
            if whole
            else first + timedelta(minutes=90)
        )
        assert schedule.last_end() == expected, (rule, first, until)


def test_series_asked_again_after_leaving_the_bounded_cache_give_the_same_dates() -> None:
    """Only the last few hundred series stay parsed (memory at national scale): one asked
    about again after many others gives the same dates as the first time."""
    first = datetime(2025, 3, 3, 18, tzinfo=UTC)
    rules = ["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE,SA", "FREQ=MONTHLY;BYDAY=1SA"]
    schedules = [
        Schedule(first + timedelta(days=n // 3, minutes=15 * n), 90, rules[n % 3], None, LONDON)
        for n in range(3 * recurrence.SERIES_KEPT)
    ]
    after = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    before = [s.occurrences(after, 3) for s in schedules]
    assert recurrence._series_from.cache_info().currsize <= recurrence.SERIES_KEPT
    assert recurrence.SERIES_KEPT <= 256
    # asked again, the first ones long gone from the cache: the same dates, walked from the start
    for schedule, dates in zip(schedules, before, strict=True):
        assert schedule.occurrences(after, 3) == dates
        assert [o.start for o in dates] == _walked(schedule, after, 3)
