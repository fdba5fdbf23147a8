"""How calls leave the bot: keyboards sent as they are."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboard import Key, Keyboard

LEEDS = (53.7997, -1.5492)


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
    assert keyboard.inline_keyboard == ptb.inline_keyboard
    assert [[Key.of(b) for b in row] for row in ptb.inline_keyboard] == keys
    assert keyboard == Keyboard(keys) and keyboard != Keyboard(keys[:1])
    assert isinstance(keyboard, InlineKeyboardMarkup)
    with pytest.raises(AttributeError):
        keyboard.keys = ()  # type: ignore[misc]  # frozen like every Telegram object
