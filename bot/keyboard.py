"""Inline keyboards that are cheap to build and to send.

python-telegram-bot makes each ``InlineKeyboardButton`` through its frozen-object machinery
(a guarded ``__setattr__`` for each of a dozen fields) and turns it back into JSON field by
field when sending. A results page has ten buttons, and a shared location is answered with a
new page each time: building and sending them that way cost as much as the search itself.
``Keyboard`` keeps each button as a plain ``Key`` and sends them as they are; PTB's buttons
are made only if something reads ``inline_keyboard``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, TelegramObject, WebAppInfo


class Key(NamedTuple):
    """One inline button: its label and either callback data, a link or a Mini App's page."""

    text: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None  # the https URL of a page opened as a Mini App

    def json(self) -> dict[str, Any]:
        """The button as the Bot API takes it."""
        if self.web_app is not None:
            return {"text": self.text, "web_app": {"url": self.web_app}}
        if self.url is not None:
            return {"text": self.text, "url": self.url}
        return {"text": self.text, "callback_data": self.data or ""}

    def ptb(self) -> InlineKeyboardButton:
        """The button as a python-telegram-bot object."""
        if self.web_app is not None:
            return InlineKeyboardButton(self.text, web_app=WebAppInfo(self.web_app))
        if self.url is not None:
            return InlineKeyboardButton(self.text, url=self.url)
        return InlineKeyboardButton(self.text, callback_data=self.data)

    @classmethod
    def of(cls, button: InlineKeyboardButton) -> Key:
        """A received callback or link button as a key."""
        data = button.callback_data
        web_app = button.web_app.url if button.web_app is not None else None
        return cls(button.text, data if isinstance(data, str) else None, button.url, web_app)


class Keyboard(InlineKeyboardMarkup):
    """An inline keyboard of ``Key`` rows, a drop-in ``InlineKeyboardMarkup``."""

    __slots__ = ("keys",)

    def __init__(self, rows: Sequence[Sequence[Key]]) -> None:
        # InlineKeyboardMarkup's own __init__ would want PTB buttons: set up the base only.
        TelegramObject.__init__(self)
        self.keys: tuple[tuple[Key, ...], ...] = tuple(tuple(row) for row in rows)
        self._id_attrs = (self.keys,)
        self._freeze()

    @property
    def inline_keyboard(self) -> tuple[tuple[InlineKeyboardButton, ...], ...]:  # type: ignore[override]
        """The rows as python-telegram-bot buttons (read-only: made from the keys)."""
        return tuple(tuple(key.ptb() for key in row) for row in self.keys)

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        """The keyboard as the Bot API takes it."""
        return {"inline_keyboard": [[key.json() for key in row] for row in self.keys]}
