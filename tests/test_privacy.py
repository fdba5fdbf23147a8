"""Data rights end to end: /mydata, /forget, retention, "I've moved"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import callbacks as cb
from storage.drafts import Draft
from tests.conftest import NOW, Harness
from tests.data import LEEDS
from tests.helpers import button_texts, last_callback_answer, only, sent, tr

UID = 7_770_123  # digits found nowhere else in the test data


async def _every_trace(bot: Harness, user_id: int) -> dict[str, int]:
    """Rows in any table with a column holding the id (alone or inside text such as JSON)."""
    found: dict[str, int] = {}
    db = bot.services.db
    conn = db.conn
    tables = await db.tables()
    assert {"users", "reminders", "outbox", "chat_status", "activities"} <= set(tables)
    for table in tables:
        columns, _ = await db.columns(table)
        for column in columns:
            async with conn.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ?',
                (f"%{user_id}%",),
            ) as cur:
                row = await cur.fetchone()
            if row and row[0]:
                found[f"{table}.{column}"] = row[0]
    return found


async def _wait_sent(bot: Harness, chat_id: int, contains: str) -> str:
    return (await sent(bot.server, chat_id, contains))[0].text


async def _use_everything(bot: Harness, user_id: int) -> int:
    """A person who used every feature; returns the activity they asked reminders for."""
    chat = bot.chat(user_id, "en")
    await chat.send("/start")
    await chat.press("English")
    await chat.press("looking for welcome")
    results = only(await chat.share_location(*LEEDS))
    card = only(await chat.press_data(results.button_data("1")))
    activity_id = int(card.button_data("⏰").split(":")[2])
    await chat.press_data(cb.RemindMe(activity_id), card.message_id)
    await chat.press_data(cb.Interested(activity_id), card.message_id)  # interested, anonymously
    await chat.press_data(card.button_data("Report"), card.message_id)  # and reports a concern
    await chat.press("Wrong information")
    await chat.send("The time is wrong")
    await chat.send("Sheffield")
    await chat.press("Save this area")
    await chat.send("/settings")
    await chat.press("Weekly digest")
    services = bot.services
    services.clock = lambda: datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # the café's day-before
    assert await services.plan_reminders() == 2  # and it is Monday: the weekly digest too
    await _wait_sent(bot, user_id, "Reminder")
    await _wait_sent(bot, user_id, "This week near")
    await bot.processor.wait_processed(chat.user.block_bot())
    await bot.processor.wait_processed(chat.user.unblock_bot())
    leeds = (await services.groups.refs())["leeds"]
    code = await services.roles.create_invite(leeds, 55, services.now())
    await chat.send(f"/start j-{code}")  # joins the Leeds team as a volunteer
    await bot.services.db.conn.execute(  # a volunteer's post (#3 posts them in the bot)
        "UPDATE activities SET created_by = ? WHERE id = ?", (user_id, activity_id)
    )
    await chat.send("/alerts")  # opts in to campaign calls, receives one and answers it
    await chat.press("Yes, send me campaign calls")
    call = await services.campaigns.create(55, services.now())
    await services.campaigns.update(
        call.id, services.now(), title="Act now", body="Write.", action_url="https://example.org/a",
        topics=1,
    )  # fmt: skip
    await services.desk.confirm(call.id, 55)
    await _wait_sent(bot, user_id, "Act now")
    await chat.press("I did it")
    await services.campaigns.create(user_id, services.now())  # and drafts a call of their own
    await services.feedback.mark_asked([(activity_id, user_id)], services.now())
    thanks = only(
        await chat.press_data(cb.FeedbackScore(activity_id, 5))
    )  # says how welcome they felt
    assert "Thank you" in thanks.plain_text()
    assert "your words were added" in only(await chat.send("Lovely people")).plain_text()
    await chat.send("/newactivity")  # and starts posting an activity
    await chat.send("Football on Fridays")
    await chat.press_data(
        cb.FeedbackScore(activity_id, 5)
    )  # presses their answer again: words may follow
    return activity_id


async def test_mydata_summary_and_file(bot: Harness) -> None:
    activity_id = await _use_everything(bot, UID)
    chat = bot.chat(UID)
    summary, document = await chat.send("/mydata")
    text = summary.plain_text()
    assert "What I keep about you" in text
    assert "Language: English" in text
    assert "What brought you here: I'm looking for welcome and support" in text
    assert "Saved area: Sheffield" in text
    assert "Reminders for 1 activity." in text
    assert document.kind == "document" and document.document is not None
    name, data = document.document
    assert name == "my-data.json"
    exported = json.loads(data)
    profile = exported["profile"]
    assert profile["id"] == UID and profile["locale"] == "en" and profile["weekly_digest"] == 1
    assert (profile["area_lat"], profile["area_lon"]) == (53.38, -1.47)  # rounded, ~1 km
    assert [r["activity_id"] for r in exported["reminders"]] == [activity_id]
    assert exported["reminders"][0]["activity"] == "Conversation café"
    assert {m["kind"] for m in exported["messages"]} == {"reminder", "digest", "campaign"}
    assert exported["campaign_alerts"]["topics"] == 63
    assert [(r["reason"], r["words"]) for r in exported["concerns_reported"]] == [
        ("wrong", "The time is wrong")
    ]
    assert [i["activity_id"] for i in exported["interested_in"]] == [activity_id]
    assert exported["campaign_calls_received"] == [
        {"campaign_id": 1, "title": "Act now", "response": "did"}
    ]
    assert exported["chat_status"]["unreachable"] == 0
    assert [a["id"] for a in exported["activities_posted"]] == [activity_id]
    assert [(f["welcome"], f["words"]) for f in exported["feedback_given"]] == [
        (5, "Lovely people")
    ]
    draft = exported["post_in_progress"]
    assert draft["step"] == "category" and "Football on Fridays" in draft["data"]
    assert [(a["journey"], a["about"]) for a in exported["answers_awaited"]] == [
        ("feedback", str(activity_id))
    ]


async def test_mydata_for_someone_unknown_keeps_nothing(bot: Harness) -> None:
    chat = bot.chat(7002)
    answer = only(await chat.send("/mydata"))
    assert "I keep nothing about you." in answer.plain_text()
    assert await bot.row("SELECT id FROM users WHERE id = 7002") is None


async def test_forget_deletes_every_trace_and_keeps_counts(bot: Harness) -> None:
    activity_id = await _use_everything(bot, UID)
    assert len(await _every_trace(bot, UID)) >= 4  # the scan does see the person
    chat = bot.chat(UID)
    ask = only(await chat.send("/forget"))
    assert "Delete everything?" in ask.plain_text()
    kept = only(await chat.press("No, keep it"))
    assert "What would you like to do?" in kept.plain_text()
    assert await bot.row("SELECT id FROM users WHERE id = ?", UID) == (UID,)

    only(await chat.send("/forget"))
    done = only(await chat.press("Yes, delete everything"))
    assert "I have deleted everything I kept about you" in done.plain_text()
    assert await _every_trace(bot, UID) == {}
    # Anonymous counts stay; the posted activity passes to its group and is still found.
    assert await bot.row("SELECT SUM(count) FROM outbox_tally WHERE kind = 'reminder'") == (1,)
    assert await bot.row("SELECT did FROM campaigns WHERE id = 1") == (1,)  # the answer counted
    assert await bot.row("SELECT welcome, user_id FROM feedback") == (5, None)  # a count now
    assert await bot.row("SELECT reason, reporter FROM reports") == ("wrong", None)  # for review
    assert await bot.row("SELECT created_by, status FROM activities WHERE id = ?", activity_id) == (
        None,
        "published",
    )
    assert await bot.services.plan_reminders() == 0  # nothing is planned for them any more
    assert UID not in bot.app.user_data  # their search, last place and menus: gone from memory

    # They were writing a post, and words after feedback were awaited: no longer. Their next
    # text is a place again, not the activity's place or words for a feedback now deleted.
    found = only(await chat.send("Sheffield"))
    assert "Sheffield welcome café" in found.plain_text()
    # A search keeps only the named place searched (its later pages name it), for a day at
    # most, so that the next button may be handled by another instance.
    traces = await _every_trace(bot, UID)
    # On PostgreSQL (several instances) that answer took a slot of the shared send budget:
    # Telegram's limits need it for a minute, then the next sends purge it (none on SQLite).
    for budget in ("send_slots.chat_id", "send_chats.chat_id"):
        assert traces.pop(budget, 0) <= 1
    assert traces == {"sessions.user_id": 1}
    assert await bot.row("SELECT data FROM sessions WHERE user_id = ?", UID) == (
        '{"last_place": [5338, -147, "Sheffield", "2638077"]}',
    )

    # Writing again starts fresh: the language picker, nothing remembered.
    again = only(await chat.send("/start"))
    assert button_texts(again)[0] == "✓ English"
    assert await bot.row("SELECT id FROM users WHERE id = ?", UID) is None


async def test_forget_in_arabic_confirms_in_arabic(bot: Harness) -> None:
    chat = bot.chat(7003, "ar")
    await chat.send("/start")
    await chat.press("العربية")
    ask = only(await chat.send("/forget"))
    assert tr("ar", "🗑 Delete everything?") in ask.plain_text()
    done = only(await chat.press(tr("ar", "🗑 Yes, delete everything")))
    assert (
        tr(
            "ar",
            "✅ Done. I have deleted everything I kept about you. If you write again, we start fresh.",
        )
        in done.plain_text()
    )
    assert await bot.row("SELECT id FROM users WHERE id = 7003") is None


async def test_forged_erase_only_ever_erases_the_presser(bot: Harness) -> None:
    await _use_everything(bot, UID)
    other = bot.chat(7004)
    await other.send("/start")
    await other.press("English")
    await other.press_data(
        cb.ForgetConfirmed()
    )  # never shown to them, but only their own data is theirs
    assert await bot.row("SELECT id FROM users WHERE id = ?", UID) == (UID,)
    assert await bot.row("SELECT id FROM users WHERE id = 7004") is None
    for forged in ("D:drop:abc", "D:drop:-4", "D:nothing", "D:dropfar:1"):
        await other.press_data(forged)
        assert "expired" in (last_callback_answer(bot.server) or "")


# --- retention ---------------------------------------------------------------------------


async def _known(bot: Harness, user_id: int, language: str = "en") -> None:
    chat = bot.chat(user_id, language)
    await chat.send("/start")
    await chat.press({"en": "English", "ar": "العربية"}[language])


async def test_retention_asks_once_in_daytime_then_deletes_the_silent(bot: Harness) -> None:
    services = bot.services
    await _known(bot, 7010, "ar")
    await _known(bot, 7011)
    await _known(bot, 7012)
    for person in (7010, 7011):
        only(await bot.chats[person].send("ليدز"))  # a search: the place named is kept a day
    assert await bot.row("SELECT COUNT(*) FROM sessions WHERE user_id IN (7010, 7011)") == (2,)
    a_year_on = NOW + timedelta(days=366)
    services.clock = lambda: a_year_on.replace(hour=23)  # night in London: nobody is asked
    report = await services.run_retention()
    assert report.asked == 0
    assert report.sessions_purged == 3  # the three sessions, untouched for more than a day
    assert await bot.row("SELECT COUNT(*) FROM sessions") == (0,)
    services.clock = lambda: a_year_on - timedelta(days=2)
    await bot.chats[7012].send("/help")  # 7012 wrote recently: not asked
    services.clock = lambda: a_year_on
    report = await services.run_retention()
    assert report.asked == 2 and report.forgotten == []
    assert (await services.run_retention()).asked == 0  # asked once
    arabic = await _wait_sent(bot, 7010, "👋")
    assert (
        tr("ar", "👋 You have not used this bot for a year. Shall I keep your settings?") in arabic
    )
    await _wait_sent(bot, 7011, "You have not used this bot for a year")
    # 7011 answers "keep" a week later; 7010 never answers.
    services.clock = lambda: a_year_on + timedelta(days=7)
    kept = only(await bot.chats[7011].press("Keep my settings"))
    assert "I will keep your settings" in kept.plain_text()
    assert await bot.row("SELECT retention_asked_at FROM users WHERE id = 7011") == (None,)
    services.clock = lambda: a_year_on + timedelta(days=29)
    assert (await services.run_retention()).forgotten == []
    services.clock = lambda: a_year_on + timedelta(days=31)
    assert (await services.run_retention()).forgotten == [7010]
    assert await _every_trace(bot, 7010) == {}
    late = only(await bot.chats[7010].press(tr("ar", "✅ Keep my settings")))
    assert tr("ar", "✅ Done. I have deleted everything I kept about you. If you write again, we start fresh.") in late.plain_text()  # fmt: skip
    assert await bot.row("SELECT COUNT(*) FROM users WHERE id IN (7011, 7012)") == (2,)


async def test_a_message_after_the_question_withdraws_it(bot: Harness) -> None:
    services = bot.services
    await _known(bot, 7020)
    a_year_on = NOW + timedelta(days=366)
    services.clock = lambda: a_year_on
    assert (await services.run_retention()).asked == 1
    services.clock = lambda: a_year_on + timedelta(days=3)
    await bot.chats[7020].send("/help")
    assert await bot.row("SELECT retention_asked_at FROM users WHERE id = 7020") == (None,)
    services.clock = lambda: a_year_on + timedelta(days=40)
    assert (await services.run_retention()).forgotten == []


async def test_last_seen_is_written_at_most_once_a_day(bot: Harness) -> None:
    await _known(bot, 7030)
    services = bot.services
    services.clock = lambda: NOW + timedelta(hours=5)
    await bot.chats[7030].send("/help")
    first = await bot.row("SELECT last_seen_at FROM users WHERE id = 7030")
    services.clock = lambda: NOW + timedelta(hours=9)
    await bot.chats[7030].send("/help")
    assert await bot.row("SELECT last_seen_at FROM users WHERE id = 7030") == first
    services.clock = lambda: NOW + timedelta(days=2)
    await bot.chats[7030].send("/help")
    assert await bot.row("SELECT last_seen_at FROM users WHERE id = 7030") == (
        (NOW + timedelta(days=2)).isoformat(),
    )


async def test_old_finished_messages_are_purged_to_counts(bot: Harness) -> None:
    services = bot.services
    conn = services.db.conn
    old, recent = (NOW - timedelta(days=100)).isoformat(), (NOW - timedelta(days=5)).isoformat()
    for chat_id, state, stamp in ((1, "sent", old), (2, "failed", old), (3, "sent", recent)):
        await conn.execute(
            "INSERT INTO outbox (kind, subject, chat_id, state, not_before, created_at, "
            "updated_at) VALUES ('digest', '2026-W30', ?, ?, ?, ?, ?)",
            (chat_id, state, stamp, stamp, stamp),
        )
    await conn.execute(
        "INSERT INTO chat_status (chat_id, unreachable, updated_at) VALUES (99, 1, ?)",
        ((NOW - timedelta(days=400)).isoformat(),),
    )
    report = await services.run_retention()
    assert (report.messages_purged, report.chats_purged) == (2, 1)
    assert await bot.row("SELECT chat_id FROM outbox") == (3,)
    assert await services.outbox.tally() == {
        ("2026-08", "digest", "sent"): 1,
        ("2026-08", "digest", "failed"): 1,
    }


async def test_unfinished_posts_and_unanswered_questions_go_after_30_days(bot: Harness) -> None:
    services = bot.services
    leeds = (await services.groups.refs())["leeds"]
    await services.drafts.save(Draft(user_id=7011, group_id=leeds, step="title"), NOW)
    activity_id = (await bot.row("SELECT id FROM activities ORDER BY id LIMIT 1"))[0]  # type: ignore[index]
    await services.db.conn.execute(  # they said "I'm interested" and were asked how it went
        "INSERT INTO interest (activity_id, user_id, created_at) VALUES (?, 7012, ?)",
        (activity_id, NOW.isoformat()),
    )
    await services.feedback.mark_asked([(int(str(activity_id)), 7012)], NOW)
    await bot.chat(7012).send("/help")  # a message of the bot's, standing in for the question
    thanks = only(
        await bot.chat(7012).press_data(cb.FeedbackScore(activity_id, 4))
    )  # words may follow
    assert "Thank you" in thanks.plain_text()
    assert await bot.row("SELECT journey FROM awaited_answers") == ("feedback",)
    services.clock = lambda: NOW + timedelta(days=29)
    assert (await services.run_retention()).drafts_purged == 0
    services.clock = lambda: NOW + timedelta(days=31)
    assert (await services.run_retention()).drafts_purged == 2
    assert await bot.row("SELECT COUNT(*) FROM activity_drafts") == (0,)
    assert await bot.row("SELECT COUNT(*) FROM awaited_answers") == (0,)
    # the text that comes after all is a place, not words about a visit a month ago
    found = only(await bot.chat(7012).send("Leeds"))
    assert "welcoming activities near Leeds" in found.plain_text()
    assert await bot.row("SELECT words FROM feedback") == (None,)


# --- I've moved --------------------------------------------------------------------------


async def test_moved_saves_the_new_area_offers_a_group_and_drops_far_reminders(
    bot: Harness,
) -> None:
    chat = bot.chat(7040)
    await chat.send("/start")
    await chat.press("English")
    menu = only(await chat.press("looking for welcome"))
    results = only(await chat.share_location(*LEEDS))
    reminded = []
    for number in ("1", "2"):
        card = only(await chat.press_data(results.button_data(number)))
        activity_id = int(card.button_data("⏰").split(":")[2])
        await chat.press_data(cb.RemindMe(activity_id), card.message_id)
        reminded.append(activity_id)
    await chat.send("/settings")
    await chat.press("Weekly digest")  # needs an area first: refused
    assert "Save an area first" in (last_callback_answer(bot.server) or "")

    ask = only(await chat.press("I've moved", menu))
    assert "Where are you now?" in ask.plain_text()
    answer = only(await chat.send("Cardiff"))
    text = answer.plain_text()
    assert "Your area is now Cardiff." in text
    assert "The nearest City of Sanctuary group:" in text and "Cardiff City of Sanctuary" in text
    assert "These reminders are for activities more than 25 mi away:" in text
    assert await bot.row("SELECT area_lat, area_lon, area_label FROM users WHERE id = 7040") == (
        51.48,
        -3.18,
        "Cardiff",
    )
    first = only(await chat.press_data(cb.DropFarReminder(reminded[0]), answer.message_id))
    assert "This reminder is for an activity more than 25 mi away:" in first.plain_text()
    assert await bot.row("SELECT COUNT(*) FROM reminders WHERE user_id = 7040") == (1,)
    last = only(await chat.press_data(cb.DropFarReminder(reminded[1]), answer.message_id))
    assert "more than 25 mi away" not in last.plain_text()
    assert await bot.row("SELECT COUNT(*) FROM reminders WHERE user_id = 7040") == (0,)
    search = only(await chat.press("Activities here", last))
    assert "Welcome choir" in search.plain_text()


async def test_moved_from_settings_by_location_keeps_near_reminders(bot: Harness) -> None:
    chat = bot.chat(7041)
    await chat.send("/start")
    await chat.press("English")
    results = only(await chat.share_location(*LEEDS))
    card = only(await chat.press_data(results.button_data("1")))
    await chat.press_data(card.button_data("⏰"), card.message_id)
    await chat.send("Leeds")
    await chat.press("Save this area")
    await chat.send("/settings")
    await chat.press("Weekly digest")
    settings = chat.last_with_buttons()
    only(await chat.press("I've moved", settings))
    answer = only(await chat.share_location(53.8123, -1.5678))  # across Leeds
    text = answer.plain_text()
    assert "Your weekly digest will show activities near it." in text
    assert "away:" not in text and "Stop all" not in " ".join(button_texts(answer))
    assert await bot.row("SELECT area_lat, area_lon FROM users WHERE id = 7041") == (53.81, -1.57)
    assert await bot.row("SELECT COUNT(*) FROM reminders WHERE user_id = 7041") == (1,)
    # Afterwards, a typed place is a search again, not a move.
    found = only(await chat.send("Sheffield"))
    assert "Sheffield welcome café" in found.plain_text()
    assert await bot.row("SELECT area_label FROM users WHERE id = 7041") == ("",)


async def test_moved_with_an_ambiguous_place_then_stop_all(bot: Harness) -> None:
    chat = bot.chat(7042)
    await chat.send("/start")
    await chat.press("English")
    results = only(await chat.share_location(*LEEDS))
    for number in ("1", "2", "3"):
        card = only(await chat.press_data(results.button_data(number)))
        await chat.press_data(card.button_data("⏰"), card.message_id)
    await chat.press_data(cb.Moved())
    choose = only(await chat.send("Bangor"))
    assert "Which “Bangor” do you mean?" in choose.plain_text()
    answer = only(await chat.press("Wales", choose))
    assert "Your area is now Bangor." in answer.plain_text()
    assert "🔕 Stop all of these" in button_texts(answer)
    only(await chat.press("Stop all of these", answer))
    assert await bot.row("SELECT COUNT(*) FROM reminders WHERE user_id = 7042") == (0,)
