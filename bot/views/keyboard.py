"""Inline keyboards that are cheap to build and to send.

python-telegram-bot makes each ``InlineKeyboardButton`` through its frozen-object machinery
(a guarded ``__setattr__`` for each of a dozen fields) and turns it back into JSON field by
field when sending. A results page has ten buttons, and a shared location is answered with a
new page each time: building and sending them that way cost as much as the search itself.
``Keyboard`` keeps each button as a plain ``Key``: replies send it as the Bot API's JSON as it
is (``to_dict``, through ``handlers.base``); ``markup()`` gives python-telegram-bot's
``InlineKeyboardMarkup`` where one of its methods wants one (``ptb_markup``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)


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
        return InlineKeyboardButton(self.text, callback_data=self.data or "")

    @classmethod
    def of(cls, button: InlineKeyboardButton) -> Key:
        """A received callback or link button as a key."""
        data = button.callback_data
        web_app = button.web_app.url if button.web_app is not None else None
        return cls(button.text, data if isinstance(data, str) else None, button.url, web_app)


@dataclass(frozen=True, slots=True, init=False)
class Keyboard:
    """An inline keyboard: rows of ``Key``s."""

    rows: tuple[tuple[Key, ...], ...]

    def __init__(self, rows: Iterable[Iterable[Key]]) -> None:
        object.__setattr__(self, "rows", tuple(tuple(row) for row in rows))

    def to_dict(self) -> dict[str, Any]:
        """The keyboard as the Bot API takes it (as ``InlineKeyboardMarkup.to_dict``)."""
        return {"inline_keyboard": [[key.json() for key in row] for row in self.rows]}

    def markup(self) -> InlineKeyboardMarkup:
        """The keyboard as python-telegram-bot's object."""
        return InlineKeyboardMarkup([[key.ptb() for key in row] for row in self.rows])

    @property
    def inline_keyboard(self) -> tuple[tuple[InlineKeyboardButton, ...], ...]:
        """The rows as python-telegram-bot buttons, as ``InlineKeyboardMarkup`` has them."""
        return self.markup().inline_keyboard


# What python-telegram-bot's methods take as reply_markup (the kinds the views use).
PTBMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def ptb_markup(markup: Keyboard | PTBMarkup | None) -> PTBMarkup | None:
    """A view's markup as python-telegram-bot's methods take it."""
    return markup.markup() if isinstance(markup, Keyboard) else markup
