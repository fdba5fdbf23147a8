"""Small assertions shared by the end-to-end tests."""

from __future__ import annotations

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
