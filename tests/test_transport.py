"""How calls leave the bot: JSON bodies (uploads as forms), keyboards sent as they are."""

from __future__ import annotations

import asyncio
import re
import ssl
from pathlib import Path

import pytest
from icalendar import Calendar
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.delivery.transport import AiohttpRequest, trusted_roots
from bot.views.keyboard import Key, Keyboard, ptb_markup
from tests.conftest import Harness
from tests.data import LEEDS
from tests.fakeapi import FakeBotAPI
from tests.helpers import button_texts, only


async def test_calls_go_as_json_and_files_as_forms(bot: Harness) -> None:
    chat = bot.chat()
    results = only(await chat.share_location(*LEEDS))
    sent = bot.server.calls_to("sendMessage")[-1]
    assert sent.body == "application/json"
    # HTML without link previews, as the bot's Defaults say (views escape what they insert).
    assert sent.params["parse_mode"] == "HTML"
    assert sent.params["link_preview_options"] == {"is_disabled": True}
    markup = sent.params["reply_markup"]
    assert isinstance(markup, dict)  # an object in the body, not a JSON string in a form
    labels = [button["text"] for row in markup["inline_keyboard"] for button in row]
    assert labels == button_texts(results)
    assert "Next ▶️" in labels and "🗂 Type of activity" in labels
    card = only(await chat.press("1", results))
    ics = only(await chat.press("Add to calendar", card))
    upload = bot.server.calls_to("sendDocument")[-1]
    assert upload.body == "multipart/form-data"
    assert ics.document is not None
    name, data = ics.document
    assert name.endswith(".ics")
    assert str(next(iter(Calendar.from_ical(data).walk("VEVENT")))["SUMMARY"]) == (
        "Conversation café"
    )


async def test_json_request_failures_read_as_python_telegram_bot_errors() -> None:
    async with FakeBotAPI() as server:
        server.timeout_hold = 2.0
        bot = Bot("123:TEST", base_url=server.base_url, request=AiohttpRequest(read_timeout=0.3))
        async with bot:
            server.fail_next("sendMessage", kind="timeout")
            with pytest.raises(TimedOut):
                await bot.send_message(5, "held")
            server.fail_next("sendMessage", kind="429", retry_after=7)
            with pytest.raises(RetryAfter) as too_many:
                await bot.send_message(5, "too fast")
            assert too_many.value.retry_after == 7
            message = await bot.send_message(5, "<b>hi</b>", parse_mode="HTML")
            assert message.text == "hi"
            assert [c.body for c in server.calls_to("sendMessage")] == ["application/json"] * 3
        base_url = server.base_url
    gone = Bot("123:TEST", base_url=base_url, request=AiohttpRequest())
    with pytest.raises(NetworkError):  # the server has stopped: refused
        await gone.initialize()  # getMe: a call with no parameters, as JSON too
    await gone.shutdown()


async def test_time_limits_a_call_gives_win_over_the_transports_own() -> None:
    async with FakeBotAPI() as server:
        server.timeout_hold = 0.6
        request = AiohttpRequest(connection_pool_size=1, read_timeout=0.3, pool_timeout=0.2)
        bot = Bot("123:TEST", base_url=server.base_url, request=request)
        async with bot:
            server.fail_next("sendMessage", kind="timeout")
            with pytest.raises(NetworkError, match="Gateway Timeout"):  # waited the whole 0.6 s
                await bot.send_message(5, "slow", read_timeout=2.0)
            server.fail_next("sendMessage", kind="timeout")
            held = asyncio.create_task(bot.send_message(5, "holds the one connection"))
            await asyncio.sleep(0.05)
            with pytest.raises(TimedOut, match="no free connection"):
                await bot.send_message(5, "waits for it")
            with pytest.raises(TimedOut):
                await held  # its own read limit, 0.3 s
            assert [c.params["text"] for c in server.calls_to("sendMessage")][1:] == [
                "holds the one connection"
            ]  # the one that found no connection was never sent


def test_keyboard_serialises_as_python_telegram_bot_would() -> None:
    keys = [[Key("1", "A:1"), Key("2", "A:2")], [Key("➡️ Take action", url="https://example.org/a")]]
    ptb = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("1", callback_data="A:1"),
                InlineKeyboardButton("2", callback_data="A:2"),
            ],
            [InlineKeyboardButton("➡️ Take action", url="https://example.org/a")],
        ]
    )
    keyboard = Keyboard(keys)
    assert keyboard.to_dict() == ptb.to_dict()
    assert keyboard.markup() == ptb and keyboard.inline_keyboard == ptb.inline_keyboard
    assert ptb_markup(keyboard) == ptb and ptb_markup(ptb) is ptb and ptb_markup(None) is None
    assert [[Key.of(b) for b in row] for row in ptb.inline_keyboard] == keys
    assert keyboard == Keyboard(keys) and keyboard != Keyboard(keys[:1])
    with pytest.raises(AttributeError):
        keyboard.rows = ()  # type: ignore[misc]  # frozen like every Telegram object


async def test_edits_meet_telegrams_answers_like_sends(bot: Harness) -> None:
    """Replies and edits go out without reading Telegram's copy back (``transport.call``):
    its errors still reach the handlers, and a short 429 is still waited out."""
    chat = bot.chat(7420)
    page1 = only(await chat.share_location(*LEEDS))
    bot.server.fail_next("editMessageText", kind="429", retry_after=1, chat_id=7420)
    page2 = only(await chat.press("Next", page1))
    assert page2.message_id == page1.message_id and "Page 2 of 2" in page2.plain_text()
    tries = [c.status for c in bot.server.calls if c.method == "editMessageText"]
    assert tries == [429, 200]
    edit = bot.server.calls_to("editMessageText")[-1].params
    assert (edit["chat_id"], edit["message_id"]) == (7420, page1.message_id)
    assert (edit["parse_mode"], edit["link_preview_options"]) == ("HTML", {"is_disabled": True})
    bot.server.fail_next("editMessageText", kind="400", chat_id=7420)
    page1_again = only(await chat.press("Previous", page2))  # cannot edit: sent anew
    assert page1_again.message_id != page1.message_id and "Page 1 of 2" in page1_again.plain_text()
    assert only(await chat.press("Next", page1_again)).message_id == page1_again.message_id


def test_tls_roots_do_not_depend_on_the_machine() -> None:
    context = trusted_roots()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 100  # certifi's bundle, loaded


async def test_a_proxy_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeBotAPI() as server:  # the fake server plays the proxy: it reads the path
        monkeypatch.setenv("HTTP_PROXY", server.base_url.split("/bot")[0])
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        bot = Bot("123:TEST", base_url="http://telegram.invalid/bot", request=AiohttpRequest())
        async with bot:  # getMe through the proxy: telegram.invalid itself resolves nowhere
            await bot.send_message(5, "via the proxy")
        assert [c.params["text"] for c in server.calls_to("sendMessage")] == ["via the proxy"]
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        bot = Bot("123:TEST", base_url=server.base_url, request=AiohttpRequest())
        async with bot:  # the fake server is named in NO_PROXY: reached directly
            await bot.send_message(5, "direct")
        assert server.calls_to("sendMessage")[-1].params["text"] == "direct"


# python-telegram-bot's private parts the bot once used, or that a shortcut would reach for.
PRIVATE_PTB = re.compile(
    r"\btelegram\._|\._(post|do_post|freeze|unfrozen|id_attrs|get_attrs|insert_defaults)\b"
    r"|TelegramObject\.__init__"
)


def test_only_public_python_telegram_bot_interfaces() -> None:
    """An upgrade of python-telegram-bot is safe only if the bot keeps to its public API."""
    root = Path(__file__).parent.parent
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for folder in ("bot", "handlers", "storage")
        for path in sorted((root / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE_PTB.search(line)
    ]
    assert found == []
