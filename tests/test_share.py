"""Sharing: a card's "📤 Share", the a-/g- links opened in the receiver's own language (a new
person first chooses one, across a restart too), and inline mode (``@<bot> Leeds``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import callbacks as cb
from bot.app import ALLOWED_UPDATES
from bot.domain import deeplinks
from bot.places.gazetteer import Gazetteer
from bot.places.postcodes import Outcodes
from storage.db import to_db
from storage.roles import ADMIN
from tests.conftest import NOW, Harness, start_bot
from tests.data import LEEDS
from tests.fakeapi import FakeBotAPI, html_to_plain
from tests.helpers import button_texts, last_callback_answer, only, tr

USERNAME = "sanctuary_demo_bot"  # the fake Bot API's bot


async def _activity_id(bot: Harness, ref: str) -> int:
    row = await bot.row("SELECT id FROM activities WHERE ref = ?", ref)
    assert row is not None
    return int(str(row[0]))


def _kind_words(locale: str) -> str:
    text = "Sorry, what this link shows is not available any more. Here is the menu:"
    return tr(locale, text)


async def test_share_button_sends_a_forwardable_message_with_the_link(bot: Harness) -> None:
    chat = bot.chat(7001)
    await chat.send("/start")
    await chat.press("English")
    await chat.press("looking for welcome")
    only(await chat.share_location(*LEEDS))
    card = only(await chat.press("1"))
    assert "📤 Share" in button_texts(card)
    cafe = await _activity_id(bot, "leeds-cafe")
    assert card.button_data("📤 Share") == cb.ShareActivity(cafe).encode()
    shared = only(await chat.press("📤 Share"))
    assert last_callback_answer(bot.server) == "Forward the message below to a friend."
    link = f"https://t.me/{USERNAME}?start=a-{cafe}"
    text = shared.plain_text()
    assert "Conversation café" in text and "Every Tuesday, 18:00–20:00" in text
    assert f"Open it in your own language: {link}" in text
    assert "St Mary's Hall, LS1 1AA" in text
    # Nothing about the person who shares: no distance from where they searched, no name.
    assert " mi" not in text and "Test" not in text
    assert shared.buttons() == [[("📲 Open in the bot", None, link)]]


async def test_activity_link_for_a_new_person_asks_the_language_first(bot: Harness) -> None:
    cafe = await _activity_id(bot, "leeds-cafe")
    chat = bot.chat(7002, "ar")
    picker = only(await chat.send(f"/start a-{cafe}"))
    assert button_texts(picker)[0] == "✓ العربية"
    card = only(await chat.press("العربية"))
    text = card.plain_text()
    assert "Conversation café" in text and tr("ar", "Free") in text and "الثلاثاء" in text
    assert tr("ar", "⏰ Remind me") in button_texts(card)
    assert await bot.row("SELECT locale FROM users WHERE id = 7002") == ("ar",)


async def test_activity_link_for_a_known_person_opens_the_card_at_once(bot: Harness) -> None:
    english = await _activity_id(bot, "leeds-english")
    chat = bot.chat(7003, "en")
    await chat.send("/start")
    await chat.press("Français")
    card = only(await chat.send(f"/start a-{english}"))
    assert "English for beginners" in card.plain_text()
    assert tr("fr", "🗓 <b>When:</b> {schedule}").split("<b>")[0] in card.plain_text()
    assert tr("fr", "📤 Share") in button_texts(card)


async def test_unknown_or_hidden_links_get_kind_words_and_the_menu(bot: Harness) -> None:
    chat = bot.chat(7004, "ar")
    await chat.send("/start")
    await chat.press("العربية")
    for payload in ("a-999999", "a-0", "a-abc", "g-nowhere"):
        answer = only(await chat.send(f"/start {payload}"))
        assert _kind_words("ar") in answer.plain_text(), payload
        assert answer.buttons(), "the menu's buttons"
    cafe = await _activity_id(bot, "leeds-cafe")
    async with bot.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE activities SET status = 'hidden', updated_at = ? WHERE id = ?",
            (to_db(NOW), cafe),
        )
    await bot.services.directory.refresh(force=True)
    assert _kind_words("ar") in only(await chat.send(f"/start a-{cafe}")).plain_text()
    # A new person meets the same kind words after choosing their language.
    # (Ids and refs too long to be any ride on the language buttons as nothing at all.)
    for i, payload in enumerate((f"a-{cafe}", "a-" + "9" * 62, "g-" + "x" * 62, "g-Not_A")):
        newcomer = bot.chat(7020 + i, "fa")
        await newcomer.send(f"/start {payload}")
        assert _kind_words("fa") in only(await newcomer.press("فارسی")).plain_text()


async def test_group_link_opens_its_activities_and_contacts(bot: Harness) -> None:
    link = deeplinks.group_link(USERNAME, "leeds")
    assert link == f"https://t.me/{USERNAME}?start=g-leeds"
    newcomer = bot.chat(7006, "ti")
    await newcomer.send("/start g-leeds")
    page = only(await newcomer.press("ትግርኛ"))
    text = page.plain_text()
    assert "Leeds City of Sanctuary (test)" in text and "leeds@example.org" in text
    titles = ["Conversation café", "English for beginners", "Friday football"]
    assert all(title in text for title in titles)
    assert "Summer picnic" not in text  # long past
    assert tr("ti", "Share this group: {link}").format(link="") in text and link in text
    # Soonest first: Tuesday's café comes before Wednesday's class (it is Monday).
    assert text.index("Conversation café") < text.index("English for beginners")
    card = only(await newcomer.press("1"))
    assert "Conversation café" in card.plain_text()
    known = bot.chat(7007, "en")
    await known.send("/start")
    await known.press("English")
    assert "Sheffield welcome café" in only(await known.send("/start g-sheffield")).plain_text()
    # The group's admins find its link in /team, to put on a noticeboard.
    refs = await bot.services.groups.refs()
    await bot.services.roles.grant(7009, ADMIN, refs["leeds"], None, NOW)
    team = only(await bot.chat(7009).send("/team")).plain_text()
    assert f"Share this group: {link}" in team


async def test_the_payload_outlives_a_restart_during_the_language_choice(
    tmp_path: Path, gazetteer: Gazetteer, outcodes: Outcodes
) -> None:
    async with FakeBotAPI() as server:
        async for bot in start_bot(tmp_path, gazetteer, outcodes, server):
            cafe = await _activity_id(bot, "leeds-cafe")
            await bot.chat(7008, "uk").send(f"/start a-{cafe}")
        async for bot in start_bot(tmp_path, gazetteer, outcodes, server):
            card = only(await bot.chat(7008, "uk").press("Українська"))
            assert "Conversation café" in card.plain_text()
            assert tr("uk", "📤 Share") in button_texts(card)


async def _inline(bot: Harness, user_id: int, language: str, query: str) -> dict[str, Any]:
    update_id = bot.server.user(user_id, language_code=language).inline_query(query, "group")
    await bot.processor.wait_processed(update_id)
    answers = list(bot.server.inline_answers.values())
    assert answers, bot.server.describe_calls()
    return answers[-1]


async def test_inline_query_lists_the_nearest_in_the_senders_language(bot: Harness) -> None:
    assert "inline_query" in ALLOWED_UPDATES
    answer = await _inline(bot, 7010, "ar", "Leeds")
    assert answer["cache_time"] == 300 and answer["is_personal"] is True
    results = answer["results"]
    place = bot.services.locator.locate("Leeds").places[0]
    nearest = bot.services.directory.search(place.lat, place.lon, 40.2, NOW, page_size=20)
    assert [r["id"] for r in results] == [f"a{hit.activity.id}" for hit in nearest.hits]
    assert len(results) >= 5
    first = results[0]
    assert nearest.hits[0].activity.title in first["title"]
    assert "كم" in first["description"]  # kilometres, in Arabic
    message = html_to_plain(first["input_message_content"]["message_text"])
    link = deeplinks.activity_link(USERNAME, nearest.hits[0].activity.id)
    assert tr("ar", "Open it in your own language: {link}").split("{")[0] in message
    assert link in message and tr("ar", "💷 <b>Cost:</b> {cost}").split("<b>")[0] in message
    buttons = first["reply_markup"]["inline_keyboard"]
    assert buttons == [[{"text": tr("ar", "📲 Open in the bot"), "url": link}]]
    assert answer["button"]["start_parameter"] == "find"


async def test_inline_query_empty_or_unknown_gets_a_helpful_answer(bot: Harness) -> None:
    for query in ("", "Xqzzyville"):
        answer = await _inline(bot, 7011, "en", query)
        assert [r["id"] for r in answer["results"]] == ["hint"]
        hint = answer["results"][0]
        assert hint["title"] == "🔎 Type a town or postcode"
        assert f"https://t.me/{USERNAME}" in hint["input_message_content"]["message_text"]
        assert answer["button"] == {"text": "🔎 Type a town or postcode", "start_parameter": "find"}
    far = await _inline(bot, 7011, "en", "Aberystwyth")
    assert far["results"][0]["title"].startswith("I found no welcoming activities within")
    # The button opens the bot: someone who chose a language before is asked where at once.
    chat = bot.chat(7011, "en")
    await chat.send("/start")
    await chat.press("English")
    asked = only(await chat.send("/start find"))
    assert "Where should I look for welcoming activities?" in asked.plain_text()


async def test_an_inline_query_from_someone_who_blocked_the_bot_keeps_them_blocked(
    bot: Harness,
) -> None:
    chat = bot.chat(7012)
    await chat.send("/start")
    await bot.processor.wait_processed(chat.user.block_bot())
    assert await bot.row("SELECT unreachable FROM chat_status WHERE chat_id = 7012") == (1,)
    await _inline(bot, 7012, "en", "Leeds")  # typed in another chat: the bot is still blocked
    assert await bot.row("SELECT unreachable FROM chat_status WHERE chat_id = 7012") == (1,)
