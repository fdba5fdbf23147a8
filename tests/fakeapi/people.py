"""The people talking to the bot through the fake Bot API: :class:`FakeUser` makes their
updates (messages, locations, presses, inline queries, blocking the bot), and
:class:`Conversation` drives one of them one update at a time, returning what the bot answered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from tests.fakeapi.chats import SentMessage
from tests.fakeapi.rules import now

if TYPE_CHECKING:
    from tests.fakeapi.server import FakeBotAPI

JSONDict = dict[str, Any]
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


class Encodes(Protocol):
    """A button code from bot/callbacks.py (the fake server itself needs none of the bot)."""

    def encode(self) -> str:
        """The callback data."""
        ...


# --------------------------------------------------------------------------- people


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self, server: FakeBotAPI, user_id: int, first_name: str, language_code: str | None
    ) -> None:
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_message_id = 0  # of the latest message this user sent

    @property
    def chat_id(self) -> int:
        """The private chat's id."""
        return self.user_id

    def to_dict(self) -> JSONDict:
        """The User object Telegram would send."""
        user: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _message_json(self, message_id: int, chat_id: int, content: JSONDict) -> JSONDict:
        return {
            "message_id": message_id,
            "from": self.to_dict(),
            "chat": self.server._chat_json(chat_id),
            "date": now(),
            **content,
        }

    def _message(self, content: JSONDict, chat_id: int | None = None) -> int:
        chat = self.chat_id if chat_id is None else chat_id
        self.last_message_id = self.server._next_message_id(chat)
        message = self._message_json(self.last_message_id, chat, content)
        return self.server.queue_update({"message": message})

    def _edit(self, message_id: int, content: JSONDict) -> int:
        """An edited_message update: one of this user's messages, as it is now."""
        message = self._message_json(message_id, self.chat_id, {"edit_date": now(), **content})
        return self.server.queue_update({"edited_message": message})

    def edit_text(self, message_id: int, text: str) -> int:
        """Queue the edit of a text message this user sent (delivered only if allowed)."""
        return self._edit(message_id, {"text": text})

    def text_update(self, text: str) -> JSONDict:
        """A text message update with a new update_id, not queued (for post_to_webhook)."""
        self.last_message_id = self.server._next_message_id(self.chat_id)
        update_id = self.server._next_update_id
        self.server._next_update_id += 1
        message = self._message_json(self.last_message_id, self.chat_id, {"text": text})
        return {"update_id": update_id, "message": message}

    def send_text(self, text: str, chat_id: int | None = None) -> int:
        """Queue a text message (in a group chat when ``chat_id`` is given, e.g. -1001234).

        A leading /command gets a bot_command entity.
        """
        content: JSONDict = {"text": text}
        command = _BOT_COMMAND_RE.match(text)
        if command is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group(0))}
            ]
        return self._message(content, chat_id)

    def add_bot_to(self, chat_id: int) -> int:
        """Add the bot to the group chat ``chat_id`` (a my_chat_member update from this user)."""
        return self._member_update("left", "member", chat_id)

    def send_content(self, content: JSONDict) -> int:
        """Queue a message with any content, e.g. a sticker or a service message (a pin)."""
        return self._message(content)

    def send_location(self, lat: float, lon: float, live_period: int | None = None) -> int:
        """Queue a shared location (a live one, updated for ``live_period`` seconds, if given)."""
        location: JSONDict = {"latitude": lat, "longitude": lon}
        if live_period is not None:
            location["live_period"] = live_period
        return self._message({"location": location})

    def move_live_location(self, message_id: int, lat: float, lon: float) -> int:
        """Queue a live location's move: Telegram sends it as an edit of the first message."""
        location: JSONDict = {"latitude": lat, "longitude": lon, "live_period": 900}
        return self._edit(message_id, {"location": location})

    def press(self, callback_data: str, message_id: int) -> int:
        """Queue a callback_query for an inline button of bot message ``message_id``."""
        return self.server._press(self, callback_data, message_id)

    def inline_query(self, query: str, chat_type: str = "private") -> int:
        """Queue an inline query: this user typed ``@<bot> <query>`` in a chat of that type."""
        return self.server._inline_query(self, query, chat_type)

    def block_bot(self) -> int:
        """Block the bot: sends answer 403 and a my_chat_member update is queued."""
        self.server.block(self.chat_id)
        return self._member_update("member", "kicked")

    def unblock_bot(self) -> int:
        """Unblock the bot again."""
        self.server.unblock(self.chat_id)
        return self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str, chat_id: int | None = None) -> int:
        def member(status: str) -> JSONDict:
            data: JSONDict = {"user": self.server.bot_user(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return self.server.queue_update(
            {
                "my_chat_member": {
                    "chat": self.server._chat_json(self.chat_id if chat_id is None else chat_id),
                    "from": self.to_dict(),
                    "date": now(),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )


# --------------------------------------------------------------------------- conversations


class Conversation:
    """A user talking to the bot through the fake server, one update at a time."""

    def __init__(
        self,
        server: FakeBotAPI,
        user: FakeUser,
        processed: Callable[[int], Awaitable[None]],
        settle: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.server = server
        self.user = user
        self._processed = processed
        # Awaited before each action (given the chat id): a test harness waits there for
        # messages sent on their own time (an outbox), which would otherwise land among
        # the replies to whatever the person does next.
        self._settle = settle

    async def _mark(self) -> int:
        if self._settle is not None:
            await self._settle(self.user.chat_id)
        return self.server.mark()

    @property
    def last(self) -> SentMessage | None:
        """The latest (non-deleted) bot message in this chat."""
        return self.server.last_message(self.user.chat_id)

    def last_with_buttons(self) -> SentMessage | None:
        """The latest (non-deleted) bot message in this chat with an inline keyboard."""
        return self.server.last_message(self.user.chat_id, inline_keyboard=True)

    async def _after(self, update_id: int, mark: int) -> list[SentMessage]:
        await self._processed(update_id)
        return self.server.messages_since(self.user.chat_id, mark)

    async def send(self, text: str) -> list[SentMessage]:
        """Send a text message; returns what the bot sent or edited meanwhile."""
        mark = await self._mark()
        return await self._after(self.user.send_text(text), mark)

    async def send_content(self, content: JSONDict) -> list[SentMessage]:
        """Send a message with any content (Bot API Message fields other than text)."""
        mark = await self._mark()
        return await self._after(self.user.send_content(content), mark)

    async def share_location(
        self, lat: float, lon: float, live_period: int | None = None
    ) -> list[SentMessage]:
        """Share a location (a live one when ``live_period`` is given)."""
        mark = await self._mark()
        return await self._after(self.user.send_location(lat, lon, live_period), mark)

    async def press(
        self, text_contains: str, message: SentMessage | None = None
    ) -> list[SentMessage]:
        """Press the inline button whose text contains ``text_contains``.

        ``message`` defaults to the latest bot message in this chat with an inline keyboard.
        """
        mark = await self._mark()
        target = message or self.last_with_buttons()
        if target is None:
            raise AssertionError(f"chat {self.user.chat_id} has no message with inline buttons")
        data = target.button_data(text_contains)
        return await self._after(self.user.press(data, target.message_id), mark)

    async def press_data(
        self, data: str | Encodes, message_id: int | None = None
    ) -> list[SentMessage]:
        """Press a button on a message (default: last): a button code (bot/callbacks.py), or
        raw text to press forged or stale data."""
        if not isinstance(data, str):
            data = data.encode()
        mark = await self._mark()
        if message_id is None:
            latest = self.last
            if latest is None:
                raise AssertionError(f"chat {self.user.chat_id} has no bot message to press")
            message_id = latest.message_id
        return await self._after(self.user.press(data, message_id), mark)
