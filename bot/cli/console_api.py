"""The console demo's stand-in for the Telegram Bot API: a small HTTP server on 127.0.0.1.

The real application talks to it as to Telegram: getUpdates hands it what the one person at
the keyboard types, shares or presses, and what the bot sends, edits or deletes is kept per
chat for the console to print. It answers only what the demo's journeys ask and checks
nothing Telegram would refuse: no errors, no faults, no rate limits (the test suite's fake
Bot API in tests/fakeapi does all that, and is not part of the installed package).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

from aiohttp import web

JSONDict = dict[str, Any]
HOST = "127.0.0.1"
BOT_USER: JSONDict = {
    "id": 1000,
    "is_bot": True,
    "first_name": "Sanctuary (demo)",
    "username": "sanctuary_demo_bot",
}
_TAG_RE = re.compile(r"<[^>]*>")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
# The methods that send a message, and the kind of message each sends.
_SENDS = {
    "sendmessage": "text",
    "sendvenue": "venue",
    "sendlocation": "location",
    "senddocument": "document",
    "sendphoto": "photo",
}
_EDITS = frozenset({"editmessagetext", "editmessagecaption", "editmessagereplymarkup"})


@dataclass(slots=True)
class Message:
    """A message the bot sent, as it is now."""

    message_id: int
    chat_id: int
    kind: str  # text, venue, location, document or photo
    text: str = ""  # the text or caption as sent (HTML unless parse_mode said otherwise)
    is_html: bool = False
    reply_markup: JSONDict | None = None
    document: tuple[str, bytes] | None = None  # a file's name and content
    lat: float = 0.0
    lon: float = 0.0
    edits: int = 0
    deleted: bool = False

    def plain_text(self) -> str:
        """The text as the person sees it (tags taken out, entities read)."""
        return html.unescape(_TAG_RE.sub("", self.text)) if self.is_html else self.text

    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """The inline keyboard's rows of (label, callback data: None for a link)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(str(b.get("text", "")), b.get("callback_data")) for b in row] for row in rows]

    def reply_keys(self) -> list[JSONDict]:
        """The reply keyboard's buttons (below the typing field), in order."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [key if isinstance(key, dict) else {"text": key} for row in rows for key in row]


class ConsoleBotAPI:
    """The stand-in server, with one person (a private chat whose id is their user id)."""

    def __init__(self, user_id: int, first_name: str, language_code: str) -> None:
        self.person: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        self.chat_id = user_id
        self.popups: list[str] = []  # answerCallbackQuery texts, in order
        self._messages: dict[int, Message] = {}  # the bot's messages in the chat
        self._events: list[int] = []  # a message id at each send or edit
        self._last_id = 0  # message ids count up in the chat, the person's and the bot's
        self._updates: list[JSONDict] = []  # not yet confirmed by getUpdates's offset
        self._last_update_id = 0
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            self._arrived.set()  # a long poll waiting ends now
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        """For the bot's ``api_url``: the token is appended to it."""
        return f"http://{HOST}:{self._port}/bot"

    # ------------------------------------------------------------------ the person

    def send_text(self, text: str) -> int:
        """The person sends a text (a leading /command marked as Telegram marks it); returns
        the update's id."""
        content: JSONDict = {"text": text}
        command = _COMMAND_RE.match(text)
        if command is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group(0))}
            ]
        return self._from_person(content)

    def share_location(self, lat: float, lon: float) -> int:
        """The person shares a location; returns the update's id."""
        return self._from_person({"location": {"latitude": lat, "longitude": lon}})

    def press(self, message_id: int, data: str) -> int:
        """The person presses a button of the bot's message; returns the update's id."""
        query = {
            "id": f"q{self._last_update_id + 1}",  # the update's id: one query an update
            "from": self.person,
            "message": self._message_json(self._messages[message_id]),
            "chat_instance": str(self.chat_id),
            "data": data,
        }
        return self._queue({"callback_query": query})

    def _from_person(self, content: JSONDict) -> int:
        self._last_id += 1
        message = {"message_id": self._last_id, "from": self.person, "date": int(time.time())}
        return self._queue({"message": {**message, "chat": self._chat(), **content}})

    def _queue(self, update: JSONDict) -> int:
        self._last_update_id += 1
        self._updates.append({"update_id": self._last_update_id, **update})
        self._arrived.set()
        return self._last_update_id

    # ------------------------------------------------------------------ what the bot sent

    def mark(self) -> int:
        """A position among the bot's sends and edits, for :meth:`since`."""
        return len(self._events)

    def since(self, mark: int) -> list[Message]:
        """The messages sent or edited after ``mark``, each once, as they are now."""
        ids = dict.fromkeys(self._events[mark:])
        return [replace(self._messages[i]) for i in ids]

    def last_with_buttons(self) -> Message | None:
        """The latest message still shown with inline buttons."""
        for message in reversed(self._messages.values()):
            if not message.deleted and message.buttons():
                return replace(message)
        return None

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        params, files = await self._params(request)
        result: Any = True
        if method == "getme":
            result = BOT_USER
        elif method == "getupdates":
            result = await self._get_updates(params)
        elif method in _SENDS:
            result = self._send(_SENDS[method], params, files)
        elif method in _EDITS and (message := self._find(params)) is not None:
            result = self._edit(message, params)
        elif method == "deletemessage" and (gone := self._find(params)) is not None:
            gone.deleted = True
        elif method == "answercallbackquery" and params.get("text"):
            self.popups.append(str(params["text"]))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> tuple[JSONDict, dict[str, tuple[str, bytes]]]:
        """The call's parameters (a JSON body, or a form with a file: values read as JSON
        where they are JSON) and its files by field name."""
        if request.content_type == "application/json":
            return dict(await request.json()), {}
        params: JSONDict = {}
        files: dict[str, tuple[str, bytes]] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params, files

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and self._runner is not None:
            self._arrived.clear()
            try:
                async with asyncio.timeout(float(params.get("timeout") or 0)):
                    await self._arrived.wait()
            except TimeoutError:
                pass
        return list(self._updates)

    def _send(self, kind: str, params: JSONDict, files: dict[str, tuple[str, bytes]]) -> JSONDict:
        self._last_id += 1
        message = Message(self._last_id, self.chat_id, kind)
        self._messages[message.message_id] = message
        if kind in ("venue", "location"):
            message.lat, message.lon = float(params["latitude"]), float(params["longitude"])
        if kind == "venue":
            params["text"] = f"{params['title']}\n{params['address']}"
        if kind in ("document", "photo"):
            # The file is a part of the form named for the kind, or one the parameter names
            # ("attach://name"); a file id or a URL is shown by name only.
            named = str(params.get(kind, ""))
            message.document = files.get(kind) or files.get(named.removeprefix("attach://"))
            message.document = message.document or (named, b"")
        return self._edit(message, params, edited=False)

    def _find(self, params: JSONDict) -> Message | None:
        message = self._messages.get(int(params.get("message_id") or 0))
        return message if message is not None and not message.deleted else None

    def _edit(self, message: Message, params: JSONDict, *, edited: bool = True) -> JSONDict:
        """A new text or caption, if given, and the keyboard given (none if none is)."""
        if "text" in params or "caption" in params:
            message.text = str(params.get("text", params.get("caption")) or "")
            message.is_html = str(params.get("parse_mode") or "").lower() == "html"
        message.reply_markup = params.get("reply_markup")
        if edited:
            message.edits += 1
        self._events.append(message.message_id)
        return self._message_json(message)

    def _chat(self) -> JSONDict:
        return {"id": self.chat_id, "type": "private", "first_name": self.person["first_name"]}

    def _message_json(self, message: Message) -> JSONDict:
        data: JSONDict = {
            "message_id": message.message_id,
            "from": BOT_USER,
            "chat": self._chat(),
            "date": int(time.time()),
        }
        location = {"latitude": message.lat, "longitude": message.lon}
        if message.kind == "text":
            data["text"] = message.plain_text()
        elif message.kind in ("venue", "location"):
            data["location"] = location
        elif message.kind == "document" and message.document is not None:
            file = {"file_id": f"doc{message.message_id}", "file_unique_id": "d"}
            data["document"] = {**file, "file_name": message.document[0]}
        elif message.kind == "photo":
            file = {"file_id": f"photo{message.message_id}", "file_unique_id": "p"}
            data["photo"] = [{**file, "width": 320, "height": 320}]
        if message.kind in ("document", "photo") and message.text:
            data["caption"] = message.plain_text()
        if message.kind == "venue":
            title, _, address = message.text.partition("\n")
            data["venue"] = {"location": location, "title": title, "address": address}
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data
