"""Small assertions shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from bot import callbacks as cb
from bot.i18n import gettext, use_locale
from tests.fakeapi import FakeBotAPI, SentMessage


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


def has_button(message: SentMessage, *codes: type[cb.Button]) -> bool:
    """Whether the message has a button of one of these codes."""
    return any(
        code.matches(data) for row in message.buttons() for _t, data, _u in row for code in codes
    )


def button_texts(message: SentMessage) -> list[str]:
    """Every inline button label of a message, in order."""
    return [text for row in message.buttons() for text, _data, _url in row]


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    limit_s: float,
    failure: Callable[[], str] = lambda: "condition not met in time",
) -> None:
    """Wait until ``check`` is true, looking every 20 ms for up to ``limit_s``: the outbox
    and the jobs work on their own time. Fails with ``failure()``."""
    for _ in range(int(limit_s / 0.02)):
        done = check()
        if await done if inspect.isawaitable(done) else done:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(failure())


async def sent(server: FakeBotAPI, chat_id: int, contains: str) -> list[SentMessage]:
    """The messages a chat was sent containing a text, waiting for the first (up to 6 s)."""

    def found() -> list[SentMessage]:
        return [m for m in server.messages(chat_id) if contains in m.text]

    await eventually(lambda: bool(found()), 6.0, server.describe_calls)
    return found()
