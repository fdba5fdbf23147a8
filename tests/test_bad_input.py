"""Bad input: any text, forged buttons, failures inside: helpful answers, never a traceback."""

from __future__ import annotations

import logging

import pytest

from bot import callbacks as cb
from bot.callbacks import SearchState
from tests.conftest import Harness
from tests.helpers import last_callback_answer, only

NASTY = [
    "x" * 4096,
    "🙂🙂🙂",
    "\u202eSheffield\u202c",
    "<b>Leeds</b> & <script>alert(1)</script>",
    "   ",
    "\u200f\u200e",
    "Leeds\n\n\nManchester",
    "' OR 1=1; DROP TABLE users; --",
]


@pytest.mark.parametrize("text", NASTY)
async def test_any_text_gets_a_helpful_answer(bot: Harness, text: str) -> None:
    reply = only(await bot.chat().send(text))
    plain = reply.plain_text()
    assert "something went wrong" not in plain
    assert "Traceback" not in plain
    assert len(reply.text) <= 4096
    # Echoed text is escaped: the fake server rejects broken HTML, so reaching here proves it.
    if "<script>" in text:
        assert "&lt;script&gt;" in reply.text or "script" not in reply.text
    assert await bot.row("SELECT COUNT(*) FROM users") == (0,)  # still nothing stored


async def test_bidi_controls_do_not_hide_a_town(bot: Harness) -> None:
    reply = only(await bot.chat().send("\u202eSheffield\u202c"))
    assert "Sheffield welcome café" in reply.plain_text()


@pytest.mark.parametrize(
    "data",
    [
        "S:1:2:3",
        "S:5380:-155:nosuchcategory:0:0",
        "S:99999:-155:-:0:0",
        "A:999999:5380:-155:-:0:0",
        "A:abc:5380:-155:-:0:0",
        "X:ics:999999",
        "X:rm:1",
        "P:999999999:f",
        "P:2644688:z",
        "G:5380:-155:x",
        "L:xx:s",
        "I:admin",
        "V:0:0",
        "zzz",
        "M:",
    ],
)
async def test_forged_or_stale_buttons_expire_politely(bot: Harness, data: str) -> None:
    chat = bot.chat()
    await chat.send("/start")
    replies = await chat.press_data(data)
    assert all("something went wrong" not in m.plain_text() for m in replies)
    assert (
        last_callback_answer(bot.server) == "This menu has expired. Please start again with /start."
    )
    assert await bot.row("SELECT COUNT(*) FROM users") == (0,)


async def test_valid_state_after_restart_still_works(bot: Harness) -> None:
    """Buttons carry their whole search, so a menu from before a restart keeps working."""
    chat = bot.chat()
    await chat.send("/start")
    state = SearchState.at(53.7997, -1.5492).at_page(1)
    page = only(await chat.press_data(cb.SearchPage(state)))
    assert "Page 2 of 2" in page.plain_text()


async def test_internal_error_shows_an_apology_not_a_traceback(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.services.directory, "search", broken)
    reply = only(await bot.chat().send("Leeds"))
    assert (
        reply.plain_text()
        == "Sorry, something went wrong on our side. Please try again in a moment."
    )
    assert "database on fire" not in reply.text


async def test_telegram_failure_while_answering_is_contained(bot: Harness) -> None:
    bot.server.fail_next("sendMessage", kind="500")
    first = await bot.chat().send("Leeds")
    # The answer failed; the error handler's apology is the next send and reaches the user.
    assert [m.plain_text() for m in first] == [
        "Sorry, something went wrong on our side. Please try again in a moment."
    ]
    again = only(await bot.chat().send("Leeds"))
    assert "welcoming activities near Leeds" in again.plain_text()


async def test_a_short_429_is_waited_out_and_the_answer_still_arrives(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    chat = bot.chat(7311)
    bot.server.fail_next("sendMessage", kind="429", retry_after=1, chat_id=7311)
    found = only(await chat.send("Leeds"))  # pressed faster than Telegram lets one chat receive
    assert "welcoming activities near Leeds" in found.plain_text()
    tries = [c.status for c in bot.server.calls if c.method == "sendMessage"]
    assert tries[-2:] == [429, 200]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_long_429_loses_that_answer_quietly_and_the_next_one_arrives(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    chat = bot.chat(7312)
    # Longer than a reply waits (5 s); short enough to wait for here
    bot.server.fail_next("sendMessage", kind="429", retry_after=6, chat_id=7312)
    assert await chat.send("Leeds") == []  # no apology either: the chat may not receive now
    assert [c.status for c in bot.server.calls if c.method == "sendMessage"][-1:] == [429]
    met = next(c.at for c in reversed(bot.server.calls) if c.status == 429)
    assert "429 from Telegram" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    again = only(await chat.send("Leeds"))  # once the pause (all sending's) is over
    assert "welcoming activities near Leeds" in again.plain_text()
    assert bot.server.calls_to("sendMessage")[-1].at - met >= 6.0


async def test_live_location_moves_and_edited_messages_start_nothing(bot: Harness) -> None:
    chat = bot.chat(7301)
    found = only(await chat.share_location(53.80, -1.55, live_period=900))
    assert "welcoming activities near you" in found.plain_text()
    shared = chat.user.last_message_id
    moves = [chat.user.move_live_location(shared, 53.80 + i / 1000, -1.55) for i in (1, 2, 3)]
    assert "Sheffield" in only(await chat.send("Sheffeild")).plain_text()
    edit = chat.user.edit_text(chat.user.last_message_id, "Leeds")  # a typo put right
    helped = only(await chat.send("/help"))  # the only answer since: no search per move or edit
    assert "/find" in helped.plain_text()
    for update_id in (*moves, edit):  # Telegram was asked not to send them at all
        assert "edited_message is not in allowed_updates" in bot.server.dropped_updates[update_id]


async def test_service_messages_in_the_chat_get_no_answer(bot: Harness) -> None:
    chat = bot.chat(7302)
    only(await chat.send("/help"))
    pinned = chat.user.last_message_id
    assert await chat.send_content({"pinned_message": {"message_id": pinned, "date": 0}}) == []
    timer = {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}}
    assert await chat.send_content(timer) == []  # someone at risk making the chat vanish
    sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    pointed = only(await chat.send_content({"sticker": sticker}))  # content: pointed to /help
    assert "/help" in pointed.plain_text()
