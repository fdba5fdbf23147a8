"""The posting rules without Telegram: question order, reading dates and times, checks, and an
activity back to answers and forth again unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.domain.posting import (
    Problem,
    answers_of,
    first_step,
    hard_to_read,
    next_step,
    parse_date,
    parse_times,
    preview_activity,
    take_text,
    to_activity,
)
from storage.models import Group

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
TODAY = date(2026, 11, 23)
GROUP = Group(
    1, "leeds", "Leeds", "group", None, "Leeds", "england", 53.8, -1.55, None, None, None, None,
    "", "Europe/London", True,
)  # fmt: skip


def test_the_questions_follow_the_answers() -> None:
    assert first_step("all", {}) == "title"
    assert next_step("repeat", {"repeat": "once"}, "all") == "date"
    assert next_step("repeat", {"repeat": "weekly"}, "all") == "days"
    assert next_step("repeat", {"repeat": "monthly"}, "all") == "nth"
    assert next_step("time", {"repeat": "once"}, "all") == "where"
    assert next_step("time", {"repeat": "fortnightly"}, "all") == "until"
    assert next_step("contact", {}, "all") == "done"
    assert first_step("where", {}) == "where"
    assert next_step("venue", {}, "where") == "done"  # an edit of one part ends with it
    assert next_step("title", {}, "title") == "done"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25/12/2026", date(2026, 12, 25)),
        ("25.12.2026", date(2026, 12, 25)),
        ("2026-12-25", date(2026, 12, 25)),
        ("25/12", date(2026, 12, 25)),
        ("1/1", date(2027, 1, 1)),  # the next such day
        ("٢٥/١٢/٢٠٢٦", date(2026, 12, 25)),  # Arabic-Indic digits
        ("۲۵/۱۲/۲۰۲۶", date(2026, 12, 25)),  # Persian digits
        ("31/02/2026", None),
        ("tomorrow", None),
        ("", None),
    ],
)
def test_dates_are_read_in_the_uk_order(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("step", "text", "data", "code"),
    [
        ("title", "x" * 81, {}, "too_long"),
        ("title", "   ", {}, "empty"),
        ("date", "soon", {}, "bad_date"),
        ("date", "22/11/2026", {}, "past_date"),
        ("date", "25/11/2026", {"repeat": "weekly", "days": [1]}, "not_a_day"),
        ("date", "28/11/2026", {"repeat": "monthly", "nth": -1, "weekday": 5}, None),
        ("time", "half nine", {}, "bad_time"),
        ("time", "13pm-2pm", {}, "bad_time"),
        ("time", "25:00-26:00", {}, "bad_time"),
        ("time", "18:00-18:00", {}, "end_before_start"),
        ("time", "09:00-10:00", {"date": "2026-11-23"}, "past_date"),  # today, already gone
        ("until", "24/11/2026", {"date": "2026-12-01"}, "until_before"),
        ("skips", "1/12, 2/12", {"repeat": "weekly", "days": [1], "date": "2026-11-24"},
         "skip_not_in_series"),
        ("where", "1 Church Lane, Leeds", {}, "no_postcode"),
        ("venue", "v" * 101, {}, "too_long"),
    ],
)  # fmt: skip
def test_each_typed_answer_is_checked(
    step: str, text: str, data: dict[str, object], code: str | None
) -> None:
    if code is None:
        assert take_text(step, text, dict(data), NOW, "Europe/London", None, GROUP)
        return
    with pytest.raises(Problem) as caught:
        take_text(step, text, dict(data), NOW, "Europe/London", None, GROUP)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00-20:00", (time(18), time(20))),
        ("10am-12pm", (time(10), time(12))),
        ("6-8pm", (time(18), time(20))),
        ("6:30 p.m. - 8 p.m.", (time(18, 30), time(20))),
        ("10am-2", (time(10), time(14))),  # a bare hour after the start: the afternoon
        ("18.00 to 20.00", (time(18), time(20))),
        ("١٠:٠٠-١٢:٠٠", (time(10), time(12))),
        ("10:00", (time(10), None)),  # a start alone: the end is asked next
        ("10am", (time(10), None)),
        ("11:00-10:00", (time(11), time(10))),  # refused as end before start, not read as 22:00
    ],
)
def test_times_are_read_as_people_type_them(text: str, expected: tuple[time, time | None]) -> None:
    assert parse_times(text) == expected


def test_an_address_without_postcode_data_is_placed_at_the_group() -> None:
    found = take_text("where", "1 Church Lane, ls1 1aa", {}, NOW, "Europe/London", None, GROUP)
    assert found == {"address": "1 Church Lane", "postcode": "LS1 1AA", "lat": 53.8, "lon": -1.55}


def test_dense_text_gets_a_hint_and_plain_text_does_not() -> None:
    assert not hard_to_read("Tea and chat. Everyone is welcome. Children too.")
    assert hard_to_read("We meet. We talk. We eat. We laugh. We sing.")  # many sentences
    assert hard_to_read("An internationalisation workshop.")  # a very long word
    assert hard_to_read(" ".join(["word"] * 25) + ".")  # a very long sentence


def test_an_activity_goes_to_answers_and_back_unchanged() -> None:
    data = {
        "title": "Café", "category": "conversation", "description": "", "repeat": "fortnightly",
        "days": [1, 3], "date": "2026-11-24", "start": "18:00", "end": "20:00",
        "until": "2027-03-30", "skips": ["2026-12-22"], "lat": 53.8, "lon": -1.55,
        "address": "1 Church Lane", "postcode": "LS1 1AA", "venue": "St Mary's Hall",
        "languages": ["en", "ar"], "cost": None, "needs": ["no_id"], "contact": "",
    }  # fmt: skip
    activity = preview_activity(data, GROUP)
    assert activity.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"
    assert activity.starts_at == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # GMT in November
    again = answers_of(activity, "Europe/London")
    assert {k: again[k] for k in data} == data
    assert to_activity(again, GROUP) == to_activity(data, GROUP)


def test_many_long_feedback_words_fit_one_message_whole() -> None:
    from bot.i18n import use_locale
    from bot.views.posting import feedback_summary
    from storage.feedback import Summary

    words = tuple(f"{n} " + "<&>" * 166 for n in range(20))  # 500 characters each, escaped longer
    with use_locale("en"):
        view = feedback_summary("Café", Summary(20, 4.2, (0, 1, 2, 7, 10), words))
    assert len(view.text) <= 4096 and view.text.endswith("…")
    assert all(line.endswith("&lt;&amp;&gt;") for line in view.text.splitlines() if "• " in line)
