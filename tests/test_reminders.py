"""Reminders: planned in the outbox at the right moments, across quiet hours and clock changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import callbacks as cb
from bot.delivery.reminders import SOON, LookTable, reminder_moment
from bot.domain.recurrence import local_to_utc
from tests.conftest import Harness
from tests.data import LEEDS
from tests.helpers import eventually, only, tr

LONDON = "Europe/London"


def test_quiet_hours_move_only_the_day_before_reminder() -> None:
    start = local_to_utc(date(2026, 11, 24), time(10), LONDON)
    assert reminder_moment(start, "day", LONDON) == start - timedelta(hours=24)
    early = local_to_utc(date(2026, 11, 24), time(7, 30), LONDON)  # day-before at 07:30: quiet
    assert reminder_moment(early, "day", LONDON) == local_to_utc(
        date(2026, 11, 23), time(8), LONDON
    )
    late = local_to_utc(date(2026, 11, 24), time(22), LONDON)  # day-before at 22:00: quiet
    assert reminder_moment(late, "day", LONDON) == local_to_utc(date(2026, 11, 24), time(8), LONDON)
    assert reminder_moment(late, "hour", LONDON) == late - timedelta(hours=1)  # never moved
    just_after_8 = local_to_utc(date(2026, 11, 24), time(8, 0), LONDON)
    assert reminder_moment(just_after_8, "day", LONDON) == local_to_utc(
        date(2026, 11, 23), time(8), LONDON
    )


async def _subscribe_to_first(bot: Harness, user_id: int, language: str = "en") -> int:
    chat = bot.chat(user_id, language)
    await chat.share_location(*LEEDS)
    card = only(await chat.press_data(chat.last_with_buttons().button_data("1")))  # type: ignore[union-attr]
    activity_id = int(card.button_data("⏰").split(":")[2])
    await chat.press_data(cb.RemindMe(activity_id), card.message_id)
    return activity_id


async def _delivered(bot: Harness, chat_id: int, count: int) -> list[str]:
    for _ in range(100):
        texts = [m.text for m in bot.server.messages(chat_id) if "⏰" in m.text or "❌" in m.text]
        if len(texts) >= count:
            return texts
        await asyncio.sleep(0.03)
    raise AssertionError(bot.server.describe_calls())


async def test_remind_me_then_reminders_arrive_once_in_local_time(bot: Harness) -> None:
    # The café is on Tuesdays 18:00-20:00 London time; NOW is Monday 23 Nov 12:00 UTC.
    activity_id = await _subscribe_to_first(bot, 4001)
    assert await bot.row("SELECT activity_id FROM reminders WHERE user_id = 4001") == (activity_id,)
    card = bot.chats[4001].last_with_buttons()
    assert card is not None and "Stop reminders" in " ".join(
        t for r in card.buttons() for t, _d, _u in r
    )
    services = bot.services
    assert await services.plan_reminders() == 0  # Tuesday 18:00 minus 24 h is not yet
    services.clock = lambda: datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert await services.plan_reminders() == 1
    assert await services.plan_reminders() == 0  # planned once
    texts = await _delivered(bot, 4001, 1)
    assert "Reminder: <b>Conversation café</b>" in texts[0] and "Tue 24 Nov, 18:00" in texts[0]
    services.clock = lambda: datetime(2026, 11, 24, 17, 0, 30, tzinfo=UTC)
    assert await services.plan_reminders() == 1  # the hour-before one
    await _delivered(bot, 4001, 2)

    async def both_marked_sent() -> bool:  # the sender writes 'sent' once Telegram answered
        sql = "SELECT COUNT(*) FROM outbox WHERE chat_id = 4001 AND state = 'sent'"
        return await bot.row(sql) == (2,)

    await eventually(both_marked_sent, 10.0)


async def test_missed_while_down_is_sent_if_not_started(bot: Harness) -> None:
    await _subscribe_to_first(bot, 4002)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # both moments passed
    assert await services.plan_reminders() == 2  # not started yet: both still useful
    assert len(await _delivered(bot, 4002, 2)) == 2
    services.clock = lambda: datetime(2026, 11, 24, 18, 30, tzinfo=UTC)  # now it has started
    await _subscribe_to_first(bot, 4005)
    assert await services.plan_reminders() == 0  # too late for this week's café


async def test_settings_and_list(bot: Harness) -> None:
    activity_id = await _subscribe_to_first(bot, 4003, "fr")
    chat = bot.chats[4003]
    settings = only(await chat.send("/settings"))
    assert tr("fr", "24 hours before") in settings.plain_text() or settings.buttons()
    await chat.press_data(cb.ToggleDayBefore(), settings.message_id)
    assert await bot.row(
        "SELECT remind_day_before, remind_hour_before FROM users WHERE id = 4003"
    ) == (0, 1)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert await services.plan_reminders() == 0  # the day-before one is off
    listed = only(await chat.send("/reminders"))
    assert "Conversation café" in listed.plain_text()
    stopped = only(await chat.press_data(cb.StopReminder(activity_id), listed.message_id))
    assert tr("fr", "You have no reminders yet. Open an activity and tap “⏰ Remind me”.") in (
        stopped.plain_text()
    )
    assert await bot.row("SELECT COUNT(*) FROM reminders WHERE user_id = 4003") == (0,)


async def test_cancelled_occurrence_sends_a_cancellation(bot: Harness) -> None:
    activity_id = await _subscribe_to_first(bot, 4004)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 24, 16, 59, tzinfo=UTC)
    assert await services.plan_reminders() >= 1
    await _delivered(bot, 4004, 1)
    await services.db.conn.execute(
        "INSERT INTO activity_skips (activity_id, local_date) VALUES (?, '2026-12-01')",
        (activity_id,),
    )
    await services.db.conn.execute("UPDATE activities SET updated_at = '2099-01-01T00:00:00+00:00'")
    services.clock = lambda: datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert await services.plan_reminders() == 1  # planned before the organiser cancels...
    await services.directory.refresh()
    services.sender.wake()  # type: ignore[union-attr]
    texts = await _delivered(bot, 4004, 2)
    assert texts[-1].startswith("❌ Cancelled: <b>Conversation café</b>")


async def test_daylight_saving_weeks_keep_local_time(bot: Harness) -> None:
    """A Sunday 10:00 series across the last Sundays of March and October 2027."""
    from bot.domain.recurrence import Schedule

    start = local_to_utc(date(2027, 3, 21), time(10), LONDON)
    schedule = Schedule(start, 60, "FREQ=WEEKLY;BYDAY=SU", None, LONDON)
    march = schedule.occurrences(datetime(2027, 3, 22, tzinfo=UTC), 2)
    assert [o.start for o in march] == [
        datetime(2027, 3, 28, 9, tzinfo=UTC),  # BST from 28 March: 10:00 local
        datetime(2027, 4, 4, 9, tzinfo=UTC),
    ]
    assert reminder_moment(march[0].start, "day", LONDON) == datetime(2027, 3, 27, 9, tzinfo=UTC)
    october = schedule.occurrences(datetime(2027, 10, 25, tzinfo=UTC), 1)
    assert october[0].start == datetime(2027, 10, 31, 10, tzinfo=UTC)  # GMT again
    assert reminder_moment(october[0].start, "hour", LONDON) == datetime(
        2027, 10, 31, 9, tzinfo=UTC
    )


async def test_weekly_digest_on_mondays_near_the_saved_area(bot: Harness) -> None:
    chat = bot.chat(4101)
    settings = only(await chat.send("/settings"))
    await chat.press_data(cb.ToggleDigest(), settings.message_id)
    assert "Save an area first" in (bot.server.calls_to("answerCallbackQuery")[-1].params["text"])
    assert await bot.row("SELECT weekly_digest FROM users WHERE id = 4101") in (None, (0,))
    await chat.send("Leeds")
    await chat.press("Save this area")
    settings = only(await chat.send("/settings"))
    switched = only(await chat.press_data(cb.ToggleDigest(), settings.message_id))
    assert "✅ 📰 Weekly digest" in [t for r in switched.buttons() for t, _d, _u in r]
    assert await bot.row("SELECT weekly_digest FROM users WHERE id = 4101") == (1,)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # Monday 08:30: not yet
    assert await services.plan_reminders() == 0
    services.clock = lambda: datetime(2026, 11, 23, 9, 5, tzinfo=UTC)  # Monday 09:05 London
    assert await services.plan_reminders() == 1
    assert await services.plan_reminders() == 0  # once a week
    for _ in range(100):
        digests = [m for m in bot.server.messages(4101) if "📰" in m.text and "Leeds" in m.text]
        if digests:
            break
        await asyncio.sleep(0.03)
    text = digests[0].plain_text()
    assert text.startswith("📰 This week near Leeds")
    assert text.index("Conversation café") < text.index("Friday football")  # nearest first
    assert "Summer picnic" not in text and "Sheffield" not in text
    services.clock = lambda: datetime(2026, 11, 24, 9, 5, tzinfo=UTC)  # Tuesday: nothing
    assert await services.plan_reminders() == 0


async def test_a_changed_time_is_planned_at_once_not_at_the_old_moment(bot: Harness) -> None:
    """The planner looks at an activity only when its next reminder comes near, and again
    when the activity changes: moved from Tuesdays to Mondays, today's reminder still goes."""
    activity_id = await _subscribe_to_first(bot, 4201)
    services = bot.services
    assert await services.plan_reminders() == 0  # Tuesday 18:00's first moment: Monday 18:00
    await services.db.conn.execute(
        "UPDATE activities SET rrule = 'FREQ=WEEKLY;BYDAY=MO', "
        "starts_at = '2026-01-05T18:00:00+00:00' WHERE id = ?",
        (activity_id,),
    )
    await services.directory.refresh()
    services.clock = lambda: datetime(2026, 11, 23, 16, 59, tzinfo=UTC)
    assert await services.plan_reminders() == 1  # an hour before Monday 18:00
    assert await bot.row(
        "SELECT payload FROM outbox WHERE chat_id = 4201 AND kind = 'reminder'"
    ) == ('{"activity_id": ' + str(activity_id) + ', "start": "2026-11-23T18:00:00+00:00"}',)


async def test_someone_asking_just_before_a_moment_is_reminded(bot: Harness) -> None:
    """Another person asks reminders of an activity the planner has already looked at, a
    minute before its hour-before moment: they are reminded too."""
    await _subscribe_to_first(bot, 4202)
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert await services.plan_reminders() == 1  # the day before
    services.clock = lambda: datetime(2026, 11, 24, 16, 58, 30, tzinfo=UTC)
    assert await services.plan_reminders() == 1  # the hour before (17:00)
    services.clock = lambda: datetime(2026, 11, 24, 16, 59, tzinfo=UTC)
    await _subscribe_to_first(bot, 4203)
    services.clock = lambda: datetime(2026, 11, 24, 16, 59, 30, tzinfo=UTC)
    assert await services.plan_reminders() == 1  # the second person's


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("wake"), st.integers(1, 6), st.integers(0, 300)),
            st.tuples(st.just("soon"), st.integers(1, 6), st.just(0)),
            st.tuples(st.just("drop"), st.integers(1, 6), st.just(0)),
            st.tuples(st.just("run"), st.just(0), st.integers(0, 120)),
        ),
        max_size=60,
    )
)
def test_the_look_table_gives_each_activity_when_its_time_comes_once(
    steps: list[tuple[str, int, int]],
) -> None:
    """The planner's compact memory (two arrays and the activities of each minute) answers
    as a plain dict of "when to look at it next" would, however times are moved and dropped."""
    table, model, now = LookTable(), dict[int, int](), 1_000_000
    for op, activity_id, value in steps:
        if op == "wake":
            table.set_wake(activity_id, now + value)
            model[activity_id] = now + value
        elif op == "soon":
            table.set_wake(activity_id, SOON)
            model[activity_id] = SOON
        elif op == "drop":
            table.drop(activity_id)
            model.pop(activity_id, None)
        else:
            now += value
            due = table.due(now)
            expected = sorted(a for a, second in model.items() if second <= now)
            assert sorted(due) == expected and len(due) == len(set(due))
            for activity_id in due:  # looked at: the planner gives each a new time or drops it
                table.set_wake(activity_id, now + 10_000)
                model[activity_id] = now + 10_000
        assert sorted(table) == sorted(model) and len(table) == len(model)


def test_the_look_table_forgets_old_times_of_activities_moved_often() -> None:
    table = LookTable()
    for step in range(5_000):  # five activities, each moved a thousand times
        table.set_wake(1 + step % 5, 1_000_000 + step * 7)
    assert len(table) == 5
    assert sum(len(ids) for ids in table._minutes.values()) < 2 * 5 + 1_000  # stale dropped
    assert sorted(table.due(1_000_000 + 5_000 * 7)) == [1, 2, 3, 4, 5]
    assert table.due(2_000_000) == []


async def test_every_activity_asked_about_is_found_page_by_page(bot: Harness) -> None:
    """The planner reads the activities someone asked reminders of a page at a time: each
    once, none left out, however the pages fall."""
    db = bot.services.db
    async with db.conn.execute("SELECT id FROM activities ORDER BY id LIMIT 7") as cur:
        activities = [int(r[0]) for r in await cur.fetchall()]
    assert len(activities) == 7
    for user_id, activity_id in [(u, a) for u in (5001, 5002) for a in activities[::2]] + [
        (5003, activities[1])
    ]:
        await bot.services.users.ensure(user_id)
        await db.conn.execute(
            "INSERT INTO reminders (user_id, activity_id, created_at) VALUES (?, ?, ?)",
            (user_id, activity_id, "2026-11-01T00:00:00+00:00"),
        )
    pages, after = [], 0
    while page := await bot.services.reminders.subscribed_activities(after, limit=2):
        pages.append(page)
        after = page[-1]
    assert [a for page in pages for a in page] == sorted({*activities[::2], activities[1]})
    assert max(len(page) for page in pages) == 2
