"""A question the bot asked is given up when the person turns to something else: another
command, another journey's button, a shared location. Their next text is then read afresh
(a place), and nothing of it lands in the question they left. A post's answers are kept."""

from __future__ import annotations

from datetime import timedelta

from bot import callbacks as cb
from storage.roles import COORDINATOR
from tests.conftest import NOW, Harness
from tests.fakeapi import Conversation
from tests.helpers import has_button, only
from tests.test_campaigns import COORD, NETWORK
from tests.test_manage import _cafe, _seeker
from tests.test_posting import LEEDS, notices, team
from tests.test_safeguarding import _card


async def _rated(bot: Harness, person: int) -> Conversation:
    """A seeker who went to the café, answered "how welcome?" with 4 and may add words now."""
    await team(bot)
    cafe = await _cafe(bot)
    chat = await _seeker(bot, person)
    await chat.press_data(cb.Interested(cafe))
    bot.services.clock = lambda: NOW + timedelta(days=2)  # Tuesday's café is over
    await bot.services.run_retention()
    await notices(bot, person, "How welcome did you feel")
    question = next(m for m in bot.server.messages(person) if has_button(m, cb.FeedbackScore))
    thanks = only(await chat.press("4", question))
    assert "type a few words" in thanks.plain_text()
    return chat


async def _awaited(bot: Harness) -> int:
    row = await bot.row("SELECT COUNT(*) FROM awaited_answers")
    assert row is not None
    return int(str(row[0]))


async def test_a_command_gives_up_the_feedback_words(bot: Harness) -> None:
    chat = await _rated(bot, 8401)
    asked = only(await chat.send("/find"))
    assert "Where should I look for welcoming activities?" in asked.plain_text()
    found = only(await chat.send("Leeds"))  # what /find asked for: a place, not feedback words
    assert "near Leeds" in found.plain_text()
    assert await bot.row("SELECT welcome, words FROM feedback") == (4, None)
    assert await _awaited(bot) == 0


async def test_a_shared_location_gives_up_the_feedback_words(bot: Harness) -> None:
    chat = await _rated(bot, 8402)
    await chat.share_location(*LEEDS)
    found = only(await chat.send("Sheffield"))
    assert "near Sheffield" in found.plain_text()
    assert await bot.row("SELECT words FROM feedback") == (None,)


async def test_another_button_gives_up_the_words_of_a_report(bot: Harness) -> None:
    chat, card = await _card(bot, 8404)
    await chat.press("Report a concern", card)
    filed = only(await chat.press("They ask for money or documents"))
    assert "Thank you" in filed.plain_text()
    back = only(await chat.press("Back to results", card))  # the card's own way back
    assert "welcoming activities near you" in back.plain_text()
    found = only(await chat.send("Leeds"))
    assert "near Leeds" in found.plain_text()
    assert await bot.row("SELECT reason, words FROM reports") == ("money", None)
    assert await _awaited(bot) == 0


async def test_a_command_gives_up_a_campaign_question_and_the_draft_stays(bot: Harness) -> None:
    await bot.services.roles.grant(COORD, COORDINATOR, NETWORK, None, NOW)
    chat = bot.chat(COORD)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    assert "Send the title of the call" in only(await chat.send("/campaign")).plain_text()
    await chat.send("/help")
    found = only(await chat.send("Leeds"))
    assert "near Leeds" in found.plain_text()
    assert await bot.row("SELECT COUNT(*), MAX(title) FROM campaigns") == (1, "")
    assert "Campaign call #" in only(await chat.send("/campaign")).plain_text()


async def test_a_button_of_a_search_gives_up_a_post_question_and_its_answers_stay(
    bot: Harness,
) -> None:
    _leeds, chat = await team(bot)
    results = only(await chat.share_location(*LEEDS))
    await chat.send("/newactivity")
    asked = only(await chat.send("Board games"))
    assert "What kind of activity is it?" in asked.plain_text()
    page = only(await chat.press("Next", results))  # an earlier search, page 2
    assert "Page 2 of" in page.plain_text()
    found = only(await chat.send("Sheffield"))  # a place, not an answer to the post
    assert "near Sheffield" in found.plain_text()
    assert await bot.row("SELECT step, data LIKE '%Board games%' FROM activity_drafts") == (
        "category",
        1,
    )
    again = only(await chat.send("/newactivity"))  # carries on where it was
    assert "What kind of activity is it?" in again.plain_text()


async def test_turning_away_from_where_are_you_now_saves_no_area(bot: Harness) -> None:
    chat = bot.chat(8406)
    await chat.send("/start")
    await chat.press_data(cb.ChooseLanguage("en", "s"))
    asked = only(await chat.press_data(cb.Moved()))
    assert "Where are you now?" in asked.plain_text()
    await chat.send("/help")
    found = only(await chat.send("Sheffield"))  # a search, not a move
    assert "Sheffield welcome café" in found.plain_text()
    assert await bot.row("SELECT area_lat, area_label FROM users WHERE id = 8406") == (None, None)
