"""Posting an activity end to end: every question and every validation error, /back, /cancel,
a restart in the middle, the preview, moderation of a volunteer's first posts, and the
Arabic conversation of an admin who publishes directly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot import callbacks as cb
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from storage.roles import ADMIN
from tests.conftest import NOW, Harness, start_bot
from tests.data import LEEDS
from tests.fakeapi import Conversation, SentMessage
from tests.helpers import button_texts, last_callback_answer, only, sent, tr

ADMIN_ID, VOL_ID = 8201, 8202


async def team(bot: Harness, volunteer_locale: str = "en") -> tuple[int, Conversation]:
    """A Leeds admin (English) and a volunteer who joined by invite; the group id and chat."""
    services = bot.services
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    admin = bot.chat(ADMIN_ID, "en")
    await admin.send("/start")
    await admin.press_data(cb.ChooseLanguage("en", "s"))
    code = await services.roles.create_invite(leeds, ADMIN_ID, NOW)
    volunteer = bot.chat(VOL_ID, volunteer_locale)
    await volunteer.send("/start")
    await volunteer.press_data(cb.ChooseLanguage(volunteer_locale, "s"))
    await volunteer.send(f"/start j-{code}")
    return leeds, volunteer


def last(messages: list[SentMessage]) -> SentMessage:
    """The newest message of a reply (a pressed question loses its buttons first)."""
    assert messages, "no reply"
    return messages[-1]


def texts(messages: list[SentMessage]) -> str:
    """Everything the bot said, as one plain text."""
    return "\n".join(m.plain_text() for m in messages)


async def quick_post(chat: Conversation, title: str) -> SentMessage:
    """The shortest good conversation (a one-off on Thursday); returns the preview."""
    await chat.send("/newactivity")
    await chat.send(title)
    await chat.press("Conversation café")
    await chat.press("No description")
    await chat.press("Once")
    await chat.press_data(cb.PostDate(date(2026, 11, 26)))
    await chat.send("14:00-16:00")
    await chat.send("Hyde Park, LS6 1AA")
    await chat.send("The park café")
    await chat.press("Done")  # languages: English
    await chat.press("Free")
    await chat.press("Done")  # nothing to tag
    return last(await chat.press("Use the group's contact"))


async def queue(admin: Conversation) -> SentMessage:
    """/moderate's first item (a notice from the outbox may arrive meanwhile)."""
    replies = await admin.send("/moderate")
    return next(m for m in replies if "Waiting for your check" in m.text)


async def notices(bot: Harness, chat_id: int, contains: str) -> list[str]:
    """Messages the outbox sent to a chat containing a text (waiting for the sender)."""
    return [m.plain_text() for m in await sent(bot.server, chat_id, contains)]


async def test_posting_meets_every_check_then_waits_for_the_admin(bot: Harness) -> None:
    leeds, chat = await team(bot)
    first = only(await chat.send("/newactivity"))
    assert "What is the activity called?" in first.plain_text()
    assert "/back changes the previous answer" in first.plain_text()
    long = only(await chat.send("x" * 81))
    assert "That is too long for the card: 81 characters, at most 80." in long.plain_text()
    category = only(await chat.send("Women's <b>conversation</b> café"))
    assert "What kind of activity is it?" in category.plain_text()
    nudge, category = await chat.send("Sport")  # a typed answer to a question of buttons
    assert nudge.plain_text() == "❗ Please tap one of the buttons."
    described = last(await chat.press("Conversation café", category))
    assert "Describe it" in described.plain_text()
    dense = (
        "Conversationalexperiences are extraordinarily welcoming here. We meet. We talk. "
        "We drink tea. We laugh. We make friends."
    )
    hint, repeat = await chat.send(dense)
    assert "Short sentences and everyday words help" in hint.plain_text()
    assert "How often does it happen?" in repeat.plain_text()
    again = only(await chat.send("/back"))
    assert "Describe it" in again.plain_text()
    repeat = only(await chat.send("Tea and chat. All women welcome."))
    days = last(await chat.press("Every week", repeat))
    assert "On which days?" in days.plain_text()
    await chat.press("Done", days)
    assert last_callback_answer(bot.server) == "Please tap at least one day first."
    await chat.press("Tuesday", days)
    ticked = only(await chat.press("Thursday", days))
    assert "✅ Tuesday" in button_texts(ticked) and "✅ Thursday" in button_texts(ticked)
    when = last(await chat.press("Done", ticked))
    assert "When is the first date?" in when.plain_text()
    assert button_texts(when) == ["Tue 24 Nov", "Thu 26 Nov", "Tue 1 Dec", "Thu 3 Dec"]
    assert "I couldn't read that date" in only(await chat.send("31/02/2026")).plain_text()
    assert "already passed" in only(await chat.send("01/01/2026")).plain_text()
    assert "not one of the days you chose" in only(await chat.send("25/11/2026")).plain_text()
    at = only(await chat.send("24/11/2026"))
    assert "What time does it start and end?" in at.plain_text()
    assert "I couldn't read that time" in only(await chat.send("six o'clock")).plain_text()
    assert "The end is not after the start" in only(await chat.send("20:00-18:00")).plain_text()
    until = only(await chat.send("18:00 – 20:00"))
    assert "Does it stop on a date?" in until.plain_text()
    assert "before the first date" in only(await chat.send("23/11/2026")).plain_text()
    skips = last(await chat.press("No end date", until))
    assert "dates when it does not take place" in skips.plain_text()
    assert "25/12/2026 is not a date of this activity" in (
        only(await chat.send("29/12/2026, 25/12/2026")).plain_text()
    )
    assert "I couldn't read the date 32/12" in only(await chat.send("32/12")).plain_text()
    where = only(await chat.send("29/12/2026"))
    assert "Where is it?" in where.plain_text()
    assert "Please include the postcode" in only(await chat.send("12 High Street")).plain_text()
    unknown = only(await chat.send("12 High Street, ZZ9 9ZZ"))
    assert "I don't know the postcode ZZ9 9ZZ" in unknown.plain_text()
    assert "not in the UK" in only(await chat.share_location(48.85, 2.35)).plain_text()
    venue = only(await chat.send("Calverley Street, LS1 3AB"))
    assert "What is the place called?" in venue.plain_text()
    languages = only(await chat.send("Central Library"))
    assert "✅ English" in button_texts(languages)
    await chat.press("Arabic", languages)
    cost = last(await chat.press("Done", languages))
    assert "Is it free?" in cost.plain_text()
    assert "too long" in only(await chat.send("£" + "9" * 80)).plain_text()
    needs = only(await chat.send("£1, or pay what you can"))
    await chat.press("Women only", needs)
    contact = last(await chat.press("Done", needs))
    assert "How can people contact" in contact.plain_text()
    preview = only(await chat.send("@leeds_women_cafe"))
    text = preview.plain_text()
    assert "Preview" in text
    assert "Women's <b>conversation</b> café" in text  # escaped, shown as typed
    assert "Every Tuesday and Thursday, 18:00–20:00" in text
    assert "Central Library, Calverley Street, LS1 3AB" in text
    assert "English and Arabic" in text and "£1, or pay what you can" in text
    assert "Women only" in text and "@leeds_women_cafe" in text
    assert "checked by a group admin" in text
    sent = last(await chat.press("Publish", preview))
    assert "was sent to your group admin" in sent.plain_text()
    row = await bot.row(
        "SELECT id, status, created_by, group_id, rrule, cost, needs, languages, postcode "
        "FROM activities WHERE title LIKE 'Women%'"
    )
    assert row is not None
    activity_id = row[0]
    assert row[1:] == (
        "pending", VOL_ID, leeds, "FREQ=WEEKLY;BYDAY=TU,TH", "£1, or pay what you can",
        "women_only", "en ar", "LS1 3AB",
    )  # fmt: skip
    assert await bot.row(
        "SELECT local_date FROM activity_skips WHERE activity_id = ?", activity_id
    ) == ("2026-12-29",)
    assert await bot.row("SELECT COUNT(*) FROM activity_drafts") == (0,)
    assert activity_id not in bot.services.directory.activities  # not shown before the check
    told = await notices(bot, ADMIN_ID, "waits for your check")
    assert "Women's <b>conversation</b> café" in told[0] and "/moderate" in told[0]


async def test_an_admins_reason_typed_after_a_restart_reaches_the_volunteer(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async for bot in start_bot(tmp_path, gazetteer, outcodes):
        _leeds, chat = await team(bot)
        await chat.press("Publish", await quick_post(chat, "Park picnic"))
        admin = bot.chat(ADMIN_ID)
        asked = only(await admin.press("Ask for changes", await queue(admin)))
        assert "What should be changed?" in asked.plain_text()
    async for bot in start_bot(tmp_path, gazetteer, outcodes):  # the same database, restarted
        replies = await bot.chat(ADMIN_ID).send("Which park, please?")
        assert "Sent back with your words" in texts(replies)
        assert await bot.row(
            "SELECT status, moderation_note FROM activities WHERE title = 'Park picnic'"
        ) == ("draft", "Which park, please?")
        assert "Which park, please?" in (await notices(bot, VOL_ID, "Please change"))[0]
        found = only(await bot.chat(ADMIN_ID).send("Leeds"))  # asked nothing now: a place
        assert "welcoming activit" in found.plain_text()


async def test_cancel_keeps_the_answers_and_a_restart_loses_nothing(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async for bot in start_bot(tmp_path, gazetteer, outcodes):
        _leeds, chat = await team(bot)
        await chat.send("/newactivity")
        await chat.send("Board games")
        stopped = only(await chat.send("/cancel"))
        assert "Your answers are kept" in stopped.plain_text()
    async for bot in start_bot(tmp_path, gazetteer, outcodes):  # the same database, restarted
        chat = bot.chat(VOL_ID)
        found = only(await chat.send("Leeds"))  # stopped before the restart: still stopped
        assert "near Leeds" in found.plain_text()
        category = only(await chat.send("/newactivity"))  # carries on where it was
        assert "What kind of activity is it?" in category.plain_text()
        await chat.press("Arts and crafts", category)
    async for bot in start_bot(tmp_path, gazetteer, outcodes):  # restarted again, while asked
        chat = bot.chat(VOL_ID)
        repeat = only(await chat.send("Chess, draughts and cards."))  # the pending question
        assert "How often does it happen?" in repeat.plain_text()
        assert await bot.row("SELECT step, data LIKE '%Chess%' FROM activity_drafts") == (
            "repeat",
            1,
        )
        discarded = await chat.send("/cancel")
        await chat.press("Discard", discarded[0])
        assert await bot.row("SELECT COUNT(*) FROM activity_drafts") == (0,)


async def test_text_after_cancel_is_a_place_again(bot: Harness) -> None:
    _leeds, chat = await team(bot)
    await chat.send("/newactivity")
    await chat.send("/cancel")
    found = only(await chat.send("Leeds"))
    assert "welcoming activities near Leeds" in found.plain_text()
    assert await bot.row("SELECT step FROM activity_drafts") == ("title",)


async def test_moderation_changes_then_approve_and_reject(bot: Harness) -> None:
    _leeds, chat = await team(bot)
    preview = await quick_post(chat, "Park picnic")
    await chat.press("Publish", preview)
    activity_id = (await bot.row("SELECT id FROM activities WHERE title = 'Park picnic'"))[0]  # type: ignore[index]
    admin = bot.chat(ADMIN_ID)
    item = await queue(admin)
    assert "Waiting for your check" in item.plain_text() and "Park picnic" in item.plain_text()
    asked = only(await admin.press("Ask for changes", item))
    assert "What should be changed?" in asked.plain_text()
    replies = await admin.send("Please add the <i>exact</i> meeting point")
    assert "Sent back with your words" in texts(replies)
    assert "Nothing is waiting" in texts(replies)
    assert await bot.row(
        "SELECT status, moderation_note FROM activities WHERE id = ?", activity_id
    ) == ("draft", "Please add the <i>exact</i> meeting point")
    told = await notices(bot, VOL_ID, "Please change")
    assert "Please add the <i>exact</i> meeting point" in told[0]

    listing = only(await chat.send("/myactivities"))
    card = last(await chat.press("Park picnic", listing))
    assert "Changes asked" in card.plain_text()
    assert "Your group admin wrote: Please add the <i>exact</i> meeting point" in card.plain_text()
    parts = last(await chat.press("Edit", card))
    where = last(await chat.press("Where", parts))
    assert "Where is it?" in where.plain_text()
    await chat.send("Hyde Park, by the bandstand, LS6 1AA")
    saved = only(await chat.send("The park café"))
    assert "is updated" in saved.plain_text()
    assert await bot.row("SELECT address FROM activities WHERE id = ?", activity_id) == (
        "Hyde Park, by the bandstand",
    )
    listing = only(await chat.send("/myactivities"))
    card = last(await chat.press("Park picnic", listing))
    again = last(await chat.press("Send for checking again", card))
    assert "Waiting for a group admin" in again.plain_text()
    item = await queue(admin)
    replies = await admin.press("Approve", item)
    assert "Approved and published" in texts(replies)
    assert await bot.row("SELECT status, moderated FROM activities WHERE id = ?", activity_id) == (
        "published",
        1,
    )
    assert activity_id in bot.services.directory.activities
    assert "was approved" in (await notices(bot, VOL_ID, "was approved"))[0]
    await chat.press_data(cb.ModerateApprove(activity_id))  # a volunteer cannot moderate
    assert last_callback_answer(bot.server) is not None
    assert await bot.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'refused' AND detail = 'moderate'"
    ) == (1,)

    preview = await quick_post(chat, "Money for papers")
    await chat.press("Publish", preview)
    item = await queue(admin)
    await admin.press("Reject", item)
    await admin.send("We never ask for money")
    assert await bot.row("SELECT status FROM activities WHERE title = 'Money for papers'") == (
        "cancelled",
    )
    assert "We never ask for money" in (await notices(bot, VOL_ID, "was not published"))[0]


async def test_a_new_volunteers_change_goes_back_for_a_check(bot: Harness) -> None:
    """A volunteer still within their first posts cannot change a published activity into
    something else unchecked: it waits (hidden) for the admin, and the people who asked for
    reminders hear of the change when it is approved, or of its end when it is rejected."""
    _leeds, chat = await team(bot)
    admin = bot.chat(ADMIN_ID)
    await chat.press("Publish", await quick_post(chat, "Park picnic"))
    await admin.press("Approve", await queue(admin))
    activity_id = (await bot.row("SELECT id FROM activities WHERE title = 'Park picnic'"))[0]  # type: ignore[index]
    seeker = bot.chat(8401, "en")
    await seeker.send("/start")
    await seeker.press_data(cb.ChooseLanguage("en", "s"))
    await seeker.press_data(cb.RemindMe(activity_id))
    assert await bot.row("SELECT COUNT(*) FROM reminders WHERE user_id = 8401") == (1,)

    async def edit_title(new_title: str) -> SentMessage:
        card = last(await chat.press("Park picnic", only(await chat.send("/myactivities"))))
        parts = last(await chat.press("Edit", card))
        await chat.press("Title", parts)
        return only(await chat.send(new_title))

    saved = await edit_title("Park picnic and games")
    assert "goes to your group admin for a check" in saved.plain_text()
    assert "hidden from /find until then" in saved.plain_text()
    assert await bot.row("SELECT status, title FROM activities WHERE id = ?", activity_id) == (
        "pending",
        "Park picnic and games",
    )
    assert activity_id not in bot.services.directory.activities
    assert await bot.row(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'activity_edited' AND detail LIKE ?",
        f"{activity_id}:%:recheck",
    ) == (1,)
    item = await queue(admin)
    assert "Park picnic and games" in item.plain_text()
    assert not [m for m in bot.server.messages(8401) if "has changed" in m.text]  # not yet
    await admin.press("Approve", item)
    assert await bot.row("SELECT status FROM activities WHERE id = ?", activity_id) == (
        "published",
    )
    assert activity_id in bot.services.directory.activities
    told = await notices(bot, 8401, "has changed")
    assert told == ["✏️ “Park picnic and games” has changed. See /reminders for the new details."]

    await edit_title("Park picnic, bring money")
    await admin.press("Reject", await queue(admin))
    await admin.send("Not a welcoming activity")
    assert await bot.row("SELECT status FROM activities WHERE id = ?", activity_id) == (
        "cancelled",
    )
    assert "has been cancelled" in (await notices(bot, 8401, "has been cancelled"))[0]


async def test_after_three_approved_posts_a_volunteer_publishes_directly(bot: Harness) -> None:
    _leeds, chat = await team(bot)
    admin = bot.chat(ADMIN_ID)
    for n in range(3):
        await chat.press("Publish", await quick_post(chat, f"Walk {n}"))
        await admin.press("Approve", await queue(admin))
    preview = await quick_post(chat, "Walk 4")
    assert "checked by a group admin" not in preview.plain_text()
    published = last(await chat.press("Publish", preview))
    assert "is published: people can find it now" in published.plain_text()
    assert await bot.row("SELECT status FROM activities WHERE title = 'Walk 4'") == ("published",)


async def test_an_admin_posts_in_arabic_and_it_is_published_at_once(bot: Harness) -> None:
    services = bot.services
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    chat = bot.chat(ADMIN_ID, "ar")
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("ar", "s"))
    first = only(await chat.send("/newactivity"))
    assert tr("ar", "✏️ What is the activity called? Keep it short (at most 80 characters).") in (
        first.plain_text()
    )
    category = only(await chat.send("مقهى المحادثة للنساء"))
    await chat.press(tr("ar", "English classes"), category)
    await chat.press(tr("ar", "No description"))
    days = last(await chat.press(tr("ar", "Once a month")))
    assert tr("ar", "Which week of the month?") in days.plain_text()
    await chat.press(tr("ar", "First"))
    date_question = last(await chat.press_data(cb.PostWeekday(5)))  # Saturday
    offered = sorted(
        cb.PostDate.decode(data).day for r in date_question.buttons() for _t, data, _u in r
    )
    assert offered == [  # the first Saturdays
        date(2026, 12, 5), date(2027, 1, 2), date(2027, 2, 6), date(2027, 3, 6),
    ]  # fmt: skip
    assert tr("ar", "That date is not one of the days you chose. Please tap or type another.") in (
        only(await chat.send("٢٨/١١/٢٠٢٦")).plain_text()  # Arabic digits; the last Saturday
    )
    await chat.send("05/12/2026")
    assert tr("ar", "The end is not after the start. Please type it like 18:00-20:00.") in (
        only(await chat.send("١١:٠٠-١٠:٠٠")).plain_text()
    )
    await chat.send("10:00-12:00")
    await chat.press(tr("ar", "No end date"))
    await chat.press(tr("ar", "None"))
    await chat.share_location(53.8010, -1.5480)
    await chat.send("مكتبة ليدز المركزية")
    await chat.press(tr("ar", "Done"))
    await chat.press(tr("ar", "Free"))
    await chat.press(tr("ar", "Done"))
    preview = last(await chat.press(tr("ar", "Use the group's contact")))
    assert "مقهى المحادثة للنساء" in preview.plain_text()
    assert tr("ar", "Every month on the first {weekday}").split("{")[0] in preview.plain_text()
    done = last(await chat.press(tr("ar", "✅ Publish"), preview))
    assert (
        tr("ar", "🎉 “{title}” is published: people can find it now. See /myactivities.")[:8]
        in done.plain_text()
    )
    row = await bot.row(
        "SELECT id, status, rrule FROM activities WHERE title = 'مقهى المحادثة للنساء'"
    )
    assert row is not None and row[1:] == ("published", "FREQ=MONTHLY;BYDAY=1SA")
    assert row[0] in services.directory.activities
    seeker = bot.chat(8299, "ar")
    await seeker.send("/start")
    await seeker.press_data(cb.ChooseLanguage("ar", "s"))
    results = only(await seeker.share_location(*LEEDS))
    assert "مقهى المحادثة للنساء" in results.plain_text()
