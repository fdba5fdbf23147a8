"""What every journey's views share: the ``View`` a handler sends, buttons and rows in reading
order, fitting whole items into one message, and the answers any journey may give.

Views take plain values and return ``View``; handlers send them. User and data text is
escaped here, inserted values are isolated for right-to-left languages. Each journey's
views are in a module of their own beside this one (start, menus, places, find, cards,
groups, reminders, privacy, admin, posting, campaigns, safeguarding, share, translating).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from telegram import ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot import callbacks as cb
from bot.domain.translations import Note, Titled, note_text
from bot.i18n import current_language, gettext, ngettext
from bot.views import formatting as fmt
from bot.views.keyboard import Key, Keyboard

_ = gettext
PAGE_SIZE = 5
TEXT_LIMIT = 4096
MAX_BUTTONS = 100  # in one inline keyboard
Markup = Keyboard | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class View:
    """A message to send: HTML text and an optional keyboard."""

    text: str
    markup: Markup | None = None

    def __post_init__(self) -> None:
        # A UTF-16 code unit per character at most twice: only longer texts are measured.
        if len(self.text) > TEXT_LIMIT // 2 and fmt.parsed_length(self.text) > TEXT_LIMIT:
            raise ValueError("view text longer than Telegram allows")


def fit_blocks(
    head: list[str], blocks: list[list[str]], tail: list[str] | None = None, most: int = 100
) -> tuple[str, int]:
    """The head lines, as many whole blocks of lines as fit in one message (as Telegram counts
    it, with room for the tail; ``most`` at most), then the tail: lines joined by line breaks.
    When blocks are left out, a line says how many. Returns the text and how many it shows."""
    tail = tail or []
    left = TEXT_LIMIT - _lines_length(head) - _lines_length(tail) - 2
    left -= fmt.parsed_length(more_not_shown(len(blocks))) + 1  # room to say what is left out
    lines = list(head)
    shown = 0
    for block in blocks:
        size = _lines_length(block) + 1
        if size > left or shown == most:
            break
        lines += block
        left -= size
        shown += 1
    if shown < len(blocks):
        lines.append(more_not_shown(len(blocks) - shown))
    return "\n".join(lines + tail), shown


def _lines_length(lines: list[str]) -> int:
    return sum(fmt.parsed_length(line) for line in lines) + max(0, len(lines) - 1)


def more_not_shown(count: int) -> str:
    """The last line of a list too long for one message."""
    return ngettext("…and {count} more, not shown here.", "…and {count} more, not shown here.",
                    count).format(count=fmt.number(count))  # fmt: skip


def button(text: str, pressed: cb.Button) -> Key:
    """An inline button carrying a button code of bot/callbacks.py (its data is checked
    against Telegram's 64-byte limit when encoded)."""
    return Key(text, pressed.encode())


def row(*buttons: Key) -> list[Key]:
    """A keyboard row in reading order (reversed for right-to-left languages)."""
    items = list(buttons)
    return items[::-1] if current_language().rtl else items


def expired() -> str:
    """Answer to stale or forged buttons."""
    return _("This menu has expired. Please start again with /start.")


def something_went_wrong() -> str:
    """Shown instead of a traceback."""
    return _("Sorry, something went wrong on our side. Please try again in a moment.")


def title_note(note: Note) -> str:
    """ " <i>(in English)</i>" after a title, or nothing."""
    text = note_text(note)
    return f" <i>{text}</i>" if text else ""


def shown_title(activity: Titled, titles: Mapping[int, tuple[str, Note]] | None) -> tuple[str, str]:
    """A list line's title in the reader's language (if given) and the note to put after it."""
    found = titles.get(activity.id) if titles is not None else None
    if found is None:
        return activity.title, ""
    return found[0], title_note(found[1])


def not_understood() -> str:
    """Anything the bot cannot read."""
    return _("I can read text, locations and buttons. Type /help to see what I can do.")


def which_group(refs: list[str]) -> str:
    """The admin of several groups (or a coordinator) must say which one."""
    return _("Which group? Add one of these after the command: {refs}").format(
        refs=fmt.bidi(fmt.escape(", ".join(refs)))
    )
