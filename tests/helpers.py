"""Small assertions shared by the end-to-end tests."""

from __future__ import annotations

import asyncio

from bot.fakeapi import FakeBotAPI, SentMessage
from bot.i18n import gettext, use_locale


def tr(locale: str, message: str) -> str:
    """``message`` as the bot would say it in ``locale`` (and check it is translated)."""
    with use_locale(locale):
        text = gettext(message)
    if locale != "en":
        assert text != message, f"not translated into {locale}: {message!r}"
    return text


def only(messages: list[SentMessage]) -> SentMessage:
    """The single message the bot answered with."""
    assert len(messages) == 1, [m.plain_text() for m in messages]
    return messages[0]


def last_callback_answer(server: FakeBotAPI) -> str | None:
    """The text of the last answerCallbackQuery (the small pop-up)."""
    calls = server.calls_to("answerCallbackQuery")
    assert calls, "no callback query was answered"
    text = calls[-1].params.get("text")
    return str(text) if text is not None else None


def button_texts(message: SentMessage) -> list[str]:
    """Every inline button label of a message, in order."""
    return [text for row in message.buttons() for text, _data, _url in row]


async def sent(server: FakeBotAPI, chat_id: int, contains: str) -> list[SentMessage]:
    """The messages a chat was sent containing a text, waiting for the first (up to 6 s):
    the outbox and the jobs send on their own time."""
    for _ in range(300):
        found = [m for m in server.messages(chat_id) if contains in m.text]
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(server.describe_calls())
