"""Managing activities end to end: edits, a cancelled date, pause and cancel told to the people
who asked for reminders; "still running?" hiding and restoring; anonymous feedback; and every
forbidden step refused and audited."""

from __future__ import annotations

from datetime import timedelta

from bot import callbacks as cb
from storage.db import to_db
from storage.roles import VOLUNTEER
from tests.conftest import NOW, Harness
from tests.fakeapi import Conversation, SentMessage
from tests.helpers import eventually, has_button, last_callback_answer, only, tr
from tests.test_posting import ADMIN_ID, LEEDS, VOL_ID, last, notices, team

CAFE = "leeds-cafe"  # weekly on Tuesdays 18:00-20:00, imported (no author)


async def _cafe(bot: Harness) -> int:
    row = await bot.row("SELECT id FROM activities WHERE ref = ?", CAFE)
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


async def _seeker(bot: Harness, user_id: int, locale: str = "en") -> Conversation:
    chat = bot.chat(user_id, locale)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage(locale, "s"))
    return chat


async def _open(chat: Conversation, title: str) -> object:
    listing = only(await chat.send("/myactivities"))
    return only(await chat.press(title, listing))


async def test_changes_are_told_to_the_people_reminded(bot: Harness) -> None:
    await team(bot)
    cafe = await _cafe(bot)
    seeker = await _seeker(bot, 8301)
    await seeker.press_data(cb.RemindMe(cafe))
    admin = bot.chat(ADMIN_ID)
    listing = only(await admin.send("/myactivities"))  # an admin manages the group's activities
    card = only(await admin.press("Conversation café", listing))
    assert "Published" in card.plain_text() and "0 people are interested" in card.plain_text()

    dates = only(await admin.press("Cancel one date", card))
    assert "Which date does not take place?" in dates.plain_text()
    await admin.press("Tue 24 Nov", dates)
    assert last_callback_answer(bot.server) == "✅ Done."
    assert await bot.row("SELECT local_date FROM activity_skips WHERE activity_id = ?", cafe) == (
        "2026-11-24",
    )
    told = await notices(bot, 8301, "does not take place")
    assert told == ["🗓 “Conversation café” does not take place on Tue 24 Nov, 18:00."]
    assert bot.services.directory.next_occurrence(cafe, NOW).start.day == 1  # type: ignore[union-attr]

    card = only(await admin.press("Conversation café", only(await admin.send("/myactivities"))))
    parts = only(await admin.press("Edit", card))
    title = only(await admin.press("Title", parts))
    assert "What is the activity called?" in title.plain_text()
    assert "is updated" in only(await admin.send("Conversation café & games")).plain_text()
    assert "has changed" in (await notices(bot, 8301, "has changed"))[0]
    assert await bot.row("SELECT title FROM activities WHERE id = ?", cafe) == (
        "Conversation café & games",
    )

    card = only(await admin.press("Conversation café", only(await admin.send("/myactivities"))))
    paused = only(await admin.press("Pause", card))
    assert "Paused" in paused.plain_text()
    assert cafe not in bot.services.directory.activities  # gone from /find
    assert "is paused for now" in (await notices(bot, 8301, "paused"))[0]
    resumed = only(await admin.press("Resume", paused))
    assert "Published" in resumed.plain_text() and cafe in bot.services.directory.activities
    assert "is on again" in (await notices(bot, 8301, "on again"))[0]

    sure = only(await admin.press("Cancel it", resumed))
    assert "Cancel “Conversation café &amp; games” for good?" in sure.text
    await admin.press("Yes, cancel it", sure)
    assert await bot.row("SELECT status FROM activities WHERE id = ?", cafe) == ("cancelled",)
    assert "has been cancelled" in (await notices(bot, 8301, "has been cancelled"))[0]
    results = only(await seeker.share_location(*LEEDS))
    assert "Conversation café" not in results.plain_text()


async def test_still_running_asks_hides_and_restores(bot: Harness) -> None:
    _leeds, volunteer = await team(bot, "ar")
    cafe = await _cafe(bot)
    await bot.services.db.conn.execute(  # the volunteer's own post
        "UPDATE activities SET created_by = ? WHERE id = ?", (VOL_ID, cafe)
    )
    await bot.services.db.conn.execute(  # imported on the test's day, not the machine's
        "UPDATE activities SET created_at = ?, confirmed_at = NULL", (to_db(NOW),)
    )
    services = bot.services
    services.clock = lambda: NOW + timedelta(days=31)
    await services.run_retention()
    question = tr("ar", "🗓 Is “{title}” still running? Please tell me, so people seeking sanctuary don't go to an empty room.")  # fmt: skip
    asked = await notices(bot, VOL_ID, question.split("{title}")[1][:12])
    assert "Conversation café" in asked[0]
    assert await bot.row(
        "SELECT fresh_asked_at IS NOT NULL FROM activities WHERE id = ?", cafe
    ) == (1,)
    sheffield = await bot.row("SELECT fresh_asked_at FROM activities WHERE ref = 'sheffield-cafe'")
    assert sheffield in (None, (None,))  # a group with nobody to answer is not asked
    services.clock = lambda: NOW + timedelta(days=46)
    await services.run_retention()
    assert cafe not in services.directory.activities  # 14 days without an answer: hidden
    hidden = tr("ar", "💤 “{title}” is hidden from /find because nobody said it is still running. Open /myactivities and tap “Still running” to show it again.")  # fmt: skip
    await notices(bot, VOL_ID, hidden.split("{title}")[1][:12])
    ask = next(m for m in bot.server.messages(VOL_ID) if has_button(m, cb.FreshYes))
    answered = last(await volunteer.press(tr("ar", "✅ Yes, still running"), ask))
    assert tr("ar", "✅ Thank you! It stays on /find.") in answered.plain_text()
    assert cafe in services.directory.activities
    assert await bot.row(
        "SELECT stale_since, fresh_asked_at FROM activities WHERE id = ?", cafe
    ) == (None, None)

    # Imported activities with no author ask the group's admins; "No" ends one. (The
    # notices that they are hidden go first: time-critical, ahead of routine questions.)
    def asked_football() -> list[SentMessage]:
        return [
            m
            for m in bot.server.messages(ADMIN_ID)
            if "Is “Friday football” still running?" in m.text
        ]

    await eventually(lambda: bool(asked_football()), 20.0, bot.server.describe_calls)
    football = asked_football()[0]
    ended = last(await bot.chat(ADMIN_ID).press("No, it has ended", football))
    assert "It is cancelled and gone from /find" in ended.plain_text()
    assert await bot.row("SELECT status FROM activities WHERE ref = 'leeds-football'") == (
        "cancelled",
    )


async def test_feedback_is_asked_after_an_occurrence_and_shown_as_totals(bot: Harness) -> None:
    await team(bot)
    cafe = await _cafe(bot)
    people = [8311, 8312, 8313]
    for person in people:
        chat = await _seeker(bot, person)
        await chat.press_data(cb.Interested(cafe))
    stranger = await _seeker(bot, 8319)
    services = bot.services
    services.clock = lambda: NOW + timedelta(days=2)  # Wednesday noon: Tuesday's café is over
    await services.run_retention()
    for person, score, words in zip(
        people, (5, 4, 2), ("Warm welcome", None, "Too noisy"), strict=True
    ):
        question = (await notices(bot, person, "How welcome did you feel"))[0]
        assert "Conversation café" in question
        chat = bot.chat(person)
        await chat.press(
            str(score),
            next(m for m in bot.server.messages(person) if has_button(m, cb.FeedbackScore)),
        )
        if words:
            assert "your words were added" in only(await chat.send(words)).plain_text()
    await stranger.press_data(cb.FeedbackScore(cafe, 1))  # never asked: the answer is refused
    assert (
        last_callback_answer(bot.server) == "This menu has expired. Please start again with /start."
    )
    assert await bot.row("SELECT COUNT(*), SUM(welcome) FROM feedback") == (3, 11)
    await services.run_retention()  # asked once only
    assert await bot.row("SELECT COUNT(*) FROM outbox WHERE kind = 'feedback'") == (3,)

    admin = bot.chat(ADMIN_ID)
    card = only(await admin.press("Conversation café", only(await admin.send("/myactivities"))))
    assert "3 people are interested" in card.plain_text()
    summary = only(await admin.press("Feedback", card)).plain_text()
    assert "3 people answered. How welcome they felt: 3.7 out of 5." in summary
    assert "Warm welcome" in summary and "Too noisy" in summary
    assert all(str(p) not in summary for p in people)
    services.clock = lambda: NOW + timedelta(days=2 + 184)
    await services.run_retention()  # six months after they were read, the words go
    assert await bot.row("SELECT COUNT(*), COUNT(words) FROM feedback") == (3, 0)


async def test_forbidden_steps_are_refused_and_audited(bot: Harness) -> None:
    leeds, volunteer = await team(bot)
    cafe = await _cafe(bot)
    services = bot.services
    sheffield = (await services.groups.refs())["sheffield"]
    await services.roles.grant(8320, VOLUNTEER, sheffield, None, NOW)
    other = await _seeker(bot, 8320)
    refusals = 0
    for data in (
        cb.ManageEdit(cafe),
        cb.ManageCancel(cafe),
        cb.ManagePause(cafe),
        cb.FreshYes(cafe),
        cb.ManageEditSection(cafe, "title"),
    ):
        await other.press_data(data)  # a volunteer of another group
        refusals += 1
        assert (
            last_callback_answer(bot.server)
            == "Sorry, you can't change this activity. Ask your group admin."
        )
    only(await other.send("/moderate"))
    refusals += 1
    await other.press_data(cb.ModerateApprove(cafe))
    refusals += 1
    # The Leeds volunteer may not touch the group's imported activities either (not theirs).
    await volunteer.press_data(cb.ManagePause(cafe))
    refusals += 1
    # A removed volunteer's old buttons and half-finished post stop working.
    await volunteer.send("/newactivity")
    await volunteer.send("Quiz night")
    await services.db.conn.execute(
        "UPDATE activities SET created_by = ? WHERE id = ?", (VOL_ID, cafe)
    )
    card = only(
        await volunteer.press("Conversation café", only(await volunteer.send("/myactivities")))
    )
    await services.roles.revoke(VOL_ID, VOLUNTEER, leeds, ADMIN_ID, NOW)
    await volunteer.press("Pause", card)
    refusals += 1
    await volunteer.press_data(
        cb.PostCategory("conversation")
    )  # the category question of the draft
    refusals += 1
    assert await bot.row("SELECT COUNT(*) FROM activity_drafts") == (0,)
    assert await bot.row("SELECT status, paused, title FROM activities WHERE id = ?", cafe) == (
        "published", 0, "Conversation café",
    )  # fmt: skip
    assert await bot.row("SELECT COUNT(*) FROM audit_log WHERE action = 'refused'") == (refusals,)
    replies = await volunteer.send("/newactivity")
    assert "Only volunteers of a City of Sanctuary group can post" in only(replies).plain_text()
