"""Safeguarding end to end: reporting a concern, three reports hide, review, the safeguarding
contact, anonymous interest, and every forbidden step refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot import callbacks as cb
from bot.domain.safeguarding import SETTLED_AFTER
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from storage.db import to_db
from storage.roles import ADMIN
from tests.conftest import NOW, Harness, start_bot
from tests.data import LEEDS
from tests.fakeapi import Conversation, SentMessage
from tests.helpers import button_texts, last_callback_answer, only, tr

ADMIN_ID, VOLUNTEER_ID = 8001, 8002


async def _team(bot: Harness, admin_locale: str = "en") -> int:
    """A Leeds admin, and a volunteer made the safeguarding contact; returns the group id."""
    services = bot.services
    leeds = (await services.groups.refs())["leeds"]
    await services.roles.grant(ADMIN_ID, ADMIN, leeds, None, NOW)
    admin = bot.chat(ADMIN_ID, admin_locale, first_name="Ada")  # admins are named too
    await admin.send("/start")
    await admin.press_data(cb.ChooseLanguage(admin_locale, "s"))
    code = await services.roles.create_invite(leeds, ADMIN_ID, NOW)
    await bot.chat(VOLUNTEER_ID).send(f"/start j-{code}")
    picker = only(await admin.send("/safeguarding"))
    set_view = only(await admin.press("Test", picker))  # the volunteer's first name
    assert "Test" in set_view.plain_text()
    assert await bot.row("SELECT user_id FROM safeguarding_contacts") == (VOLUNTEER_ID,)
    return leeds


async def _card(
    bot: Harness, user_id: int, locale: str = "en", settled: bool = True
) -> tuple[Conversation, SentMessage]:
    """Someone opens the first card near Leeds (``settled``: using the bot for days, so that
    their report counts towards hiding)."""
    chat = bot.chat(user_id, locale)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage(locale, "s"))
    if settled:
        await bot.services.db.conn.execute(
            "UPDATE users SET created_at = ? WHERE id = ?",
            (to_db(NOW - SETTLED_AFTER - timedelta(minutes=1)), user_id),
        )
    results = only(await chat.share_location(*LEEDS))
    card = only(await chat.press_data(results.button_data("1")))
    return chat, card


async def _notices(bot: Harness, chat_id: int, count: int) -> list[str]:
    for _ in range(300):
        found = [m.plain_text() for m in bot.server.messages(chat_id) if "/reports" in m.text]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(bot.server.describe_calls())


async def test_a_concern_is_told_at_once_three_hide_and_a_review_restores(bot: Harness) -> None:
    await _team(bot)
    chat, card = await _card(bot, 8101)
    activity_id = int(card.button_data("Report").split(":")[1])
    row = await bot.row("SELECT title FROM activities WHERE id = ?", activity_id)
    assert row is not None
    title = str(row[0])
    assert title in card.plain_text()
    reasons = only(await chat.press("Report a concern", card))
    assert "the organisers never see who sent it" in reasons.plain_text()
    filed = only(await chat.press("It feels unsafe"))
    assert "safeguarding contact has been told" in filed.plain_text()
    added = only(await chat.send("They asked <b>for my passport</b>"))
    assert "your words were added" in added.plain_text()
    assert await bot.row("SELECT reason, words FROM reports") == (
        "unsafe",
        "They asked <b>for my passport</b>",
    )
    for person in (ADMIN_ID, VOLUNTEER_ID):  # the admin and the safeguarding contact, at once
        notice = (await _notices(bot, person, 1))[0]
        assert f"A concern was reported about “{title}”" in notice and "It feels unsafe" in notice
        assert "8101" not in notice
    again = only(await chat.press("Report a concern", card))
    assert "You have already reported" in only(await chat.press("Wrong information", again)).text
    assert await bot.row("SELECT COUNT(*) FROM reports") == (1,)

    for person in (8102, 8103):
        other, other_card = await _card(bot, person)
        await other.press("Report a concern", other_card)
        await other.press("They ask for money")
    assert await bot.row("SELECT status FROM activities WHERE id = ?", activity_id) == ("hidden",)
    assert "hidden from search" in (await _notices(bot, VOLUNTEER_ID, 3))[-1]
    await _notices(bot, ADMIN_ID, 3)
    assert activity_id not in bot.services.directory.activities
    results = only(await bot.chat(8104).share_location(*LEEDS))
    assert title not in results.plain_text()

    admin = bot.chat(ADMIN_ID)
    listed = only(await admin.send("/reports"))
    text = listed.plain_text()
    assert title in text and "hidden from search" in text
    assert "They asked <b>for my passport</b>" in text  # escaped, shown as typed
    assert "8101" not in text and "8102" not in text
    await admin.press("Show")
    assert last_callback_answer(bot.server) == "✅ The activity is shown again."
    assert await bot.row("SELECT status FROM activities WHERE id = ?", activity_id) == (
        "published",
    )
    assert await bot.row("SELECT COUNT(*) FROM reports WHERE reviewed_at IS NULL") == (0,)
    assert activity_id in bot.services.directory.activities
    assert "No open reports" in only(await admin.send("/reports")).plain_text()
    actions = [e.action for e in await bot.services.roles.audit()]
    assert "report_restored" in actions and "safeguarding_contact" in actions

    # Six months after the review the words go; the report stays as a count and a reason.
    bot.services.clock = lambda: NOW + timedelta(days=184)
    report = await bot.services.run_retention()
    assert report.words_purged == 1
    assert await bot.row("SELECT COUNT(*), COUNT(words) FROM reports") == (3, 0)


async def test_words_sent_after_a_restart_still_reach_the_report(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async for bot in start_bot(tmp_path, gazetteer, outcodes):
        await _team(bot)
        chat, card = await _card(bot, 8101, "ar")
        await chat.press(tr("ar", "⚠️ Report a concern"), card)
        await chat.press(tr("ar", "They ask for money or documents"))
    async for bot in start_bot(tmp_path, gazetteer, outcodes):  # the same database, restarted
        chat = bot.chat(8101, "ar")
        added = only(await chat.send("طلبوا جواز سفري"))  # "they asked for my passport"
        assert tr("ar", "✅ Thank you, your words were added to the report.") in added.text
        assert await bot.row("SELECT reason, words FROM reports") == ("money", "طلبوا جواز سفري")
        assert await bot.row("SELECT COUNT(*) FROM awaited_answers") == (0,)
        found = only(await chat.send("ليدز"))  # asked nothing now: Leeds, a place again
        assert "Conversation café" in found.text


async def test_reporting_in_arabic_and_the_notice_in_the_admins_language(bot: Harness) -> None:
    await _team(bot, admin_locale="ar")
    chat, card = await _card(bot, 8201, "ar")
    reasons = only(await chat.press(tr("ar", "⚠️ Report a concern"), card))
    assert tr("ar", "What worries you about this activity?") in reasons.plain_text()
    await chat.press(tr("ar", "They ask for money or documents"))
    await chat.press(tr("ar", "Done"))
    notice = (await _notices(bot, ADMIN_ID, 1))[0]
    assert tr("ar", "They ask for money or documents") in notice
    assert tr("ar", "Please review it with /reports.") in notice


async def test_interest_is_counted_never_named(bot: Harness) -> None:
    await _team(bot)
    for person in (8301, 8302):
        chat, card = await _card(bot, person)
        await chat.press("I'm interested", card)
        assert "organisers see only how many" in (last_callback_answer(bot.server) or "")
    assert "✅ I'm interested" in button_texts(bot.chat(8302).last_with_buttons() or card)
    team = only(await bot.chat(ADMIN_ID).send("/team")).plain_text()
    assert "2 people interested:" in team and "Safeguarding contact: Test" in team
    assert "8301" not in team
    chat = bot.chat(8302)
    await chat.press("I'm interested")  # pressed again: taken back
    assert await bot.row("SELECT COUNT(*) FROM interest") == (1,)


async def test_every_forbidden_safeguarding_step_is_refused(bot: Harness) -> None:
    leeds = await _team(bot)
    refusal = (
        "Only an admin of a City of Sanctuary group can do this. Ask your group's coordinator."
    )
    stranger = bot.chat(8401)
    await stranger.send("/start")
    assert only(await stranger.send("/reports")).plain_text() == refusal
    chat, card = await _card(bot, 8402)
    activity_id = int(card.button_data("Report").split(":")[1])
    await chat.press("Report a concern", card)
    await chat.press("Something else")
    await _notices(bot, VOLUNTEER_ID, 1)  # the contact is told (before they write below)
    await _notices(bot, ADMIN_ID, 1)
    for data in (
        cb.ReviewRemoveAsk(activity_id),
        cb.ReviewShowAgain(activity_id),
        cb.SetSafeguardingContact(leeds, 8401),
    ):
        await stranger.press_data(data)
        assert last_callback_answer(bot.server) == refusal
    # The volunteer (the safeguarding contact) reviews, but cannot choose the contact...
    volunteer = bot.chat(VOLUNTEER_ID)
    assert "Only an admin" in only(await volunteer.send("/safeguarding")).plain_text()
    # ...and an admin cannot make a stranger (not in the team) the contact.
    await bot.chat(ADMIN_ID).press_data(cb.SetSafeguardingContact(leeds, 8401))
    assert last_callback_answer(bot.server) == refusal
    assert await bot.row("SELECT user_id FROM safeguarding_contacts") == (VOLUNTEER_ID,)
    assert await bot.row("SELECT status FROM activities WHERE id = ?", activity_id) == (
        "published",
    )
    assert "Something else" in only(await volunteer.send("/reports")).plain_text()
    await stranger.press_data("Q:r:999999:unsafe")  # a forged activity
    assert "expired" in (last_callback_answer(bot.server) or "").lower()
    refused = [e for e in await bot.services.roles.audit() if e.action == "refused"]
    assert len(refused) == 6
