"""Schedules: one-offs, weekly, fortnightly and monthly series across daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.recurrence import Repeat, RepeatError, Schedule, local_to_utc

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
