"""A fake Telegram Bot API HTTP server for end-to-end tests, the console demo and benchmarks.

Point a python-telegram-bot ``Application`` at it with
``ApplicationBuilder().base_url(server.base_url).base_file_url(server.base_file_url)``.
The server answers like Telegram (``{"ok": true, "result": ...}`` or an error object with the
matching HTTP status), validates what tests care about (text length, HTML markup, callback data,
inline keyboards, edits), records every call in ``server.calls`` and can inject faults.

Users are simulated with :meth:`FakeBotAPI.user`; :class:`Conversation` drives one of them one
update at a time. After ``setWebhook`` the server posts updates to the bot's URL as Telegram
does (the secret in ``X-Telegram-Bot-Api-Secret-Token``, again after any answer but 2xx) and
answers getUpdates with 409; ``post_to_webhook`` posts one update with any header. Everything runs on one asyncio event loop; ``queue_update`` (and so the
``FakeUser`` methods) may also be called from another thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web


class Encodes(Protocol):
    """A button code from bot/callbacks.py (the fake server itself needs none of the bot)."""

    def encode(self) -> str:
        """The callback data."""
        ...


__all__ = [
    "BOT_ID",
    "FAULT_KINDS",
    "INFRASTRUCTURE_METHODS",
    "ApiCall",
    "Conversation",
    "FakeBotAPI",
    "FakeUser",
    "Gate",
    "SentMessage",
    "UploadedFile",
    "WebhookPost",
    "html_error",
    "html_to_plain",
]

JSONDict = dict[str, Any]
MessageKind = Literal["text", "venue", "location", "document", "photo"]
Button = tuple[str, str | None, str | None]

HOST = "127.0.0.1"
BOT_ID = 1000
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_KEEP_SECRET = object()  # post_to_webhook: the secret given to setWebhook
MAX_INLINE_RESULTS = 50
MAX_INLINE_RESULT_ID = 64  # bytes
_START_PARAMETER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FAULT_KINDS = frozenset({"429", "403", "400", "500", "502", "timeout", "migrate"})
# Methods a fault with ``method=None`` never hits: polling, start-up and configuration calls.
INFRASTRUCTURE_METHODS = _words(
    "getupdates getme deletewebhook setwebhook getwebhookinfo close logout setmycommands "
    "getmycommands deletemycommands setchatmenubutton getchatmenubutton setmydescription "
    "setmyshortdescription setmyname getfile"
)
_CANONICAL = {
    name.lower(): name
    for name in _words(
        "getUpdates getMe deleteWebhook setWebhook getWebhookInfo close logOut sendMessage "
        "sendVenue sendLocation sendDocument sendPhoto sendChatAction editMessageText "
        "editMessageCaption editMessageReplyMarkup deleteMessage answerCallbackQuery "
        "answerInlineQuery "
        "setMyCommands getMyCommands deleteMyCommands setChatMenuButton getChatMenuButton "
        "getFile"
    )
}
_DEFAULT_UPDATE_TYPES = _words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request chat_boost "
    "removed_chat_boost"
)
_CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note upload_video_note"
)
_INT_KEYS = _words(
    "chat_id from_chat_id message_id offset limit reply_to_message_id message_thread_id "
    "user_id cache_time until_date live_period heading proximity_alert_radius max_connections"
)
_FLOAT_KEYS = frozenset({"latitude", "longitude", "timeout", "horizontal_accuracy"})
_BOOL_KEYS = _words(
    "disable_notification protect_content show_alert disable_web_page_preview "
    "allow_sending_without_reply drop_pending_updates disable_content_type_detection "
    "has_spoiler show_caption_above_media allow_paid_broadcast is_personal"
)
_JSON_KEYS = _words(
    "reply_markup allowed_updates commands scope menu_button entities caption_entities "
    "link_preview_options reply_parameters media results message_ids button"
)
_DEFAULT_SCOPE = '{"type": "default"}'
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_LANGUAGE_RE = re.compile(r"(?:[a-z]{2})?")

# --------------------------------------------------------------------------- HTML checking

_ALLOWED_TAGS = _words("b strong i em u ins s strike del a code pre tg-spoiler span blockquote")
_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z_:][-A-Za-z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)"
    r"\s*>"
)
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7}));")
_SPECIAL_RE = re.compile(r"[<&]")
_SPOILER_CLASS_RE = re.compile(r"""\bclass\s*=\s*(?:"tg-spoiler"|'tg-spoiler'|tg-spoiler)""")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def html_error(text: str) -> str | None:
    """Return why Telegram would reject ``text`` with parse_mode HTML, or None if it is fine."""
    stack: list[str] = []
    pos = 0
    while (found := _SPECIAL_RE.search(text, pos)) is not None:
        start = found.start()
        offset = _byte_offset(text, start)
        if text[start] == "&":
            entity = _ENTITY_RE.match(text, start)
            if entity is None:
                return f"Unsupported HTML entity at byte offset {offset}"
            dec, hexa = entity.group(1), entity.group(2)
            code = int(dec) if dec else int(hexa, 16) if hexa else 0
            if code > 0x10FFFF:
                return f"Invalid numeric HTML entity at byte offset {offset}"
            pos = entity.end()
            continue
        tag = _TAG_RE.match(text, start)
        if tag is None:
            return f"Unexpected end of name token at byte offset {offset}"
        closing, name, attrs = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        if name not in _ALLOWED_TAGS:
            kind = "end" if closing else "start"
            return f'Unsupported {kind} tag "{name}" at byte offset {offset}'
        if closing:
            if attrs.strip():
                return f"Unexpected end tag attributes at byte offset {offset}"
            if not stack:
                return f'Unexpected end tag "{name}" at byte offset {offset}'
            if stack[-1] != name:
                return (
                    f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
        else:
            if name == "span" and not _SPOILER_CLASS_RE.search(attrs):
                return f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            stack.append(name)
        pos = tag.end()
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def html_to_plain(text: str) -> str:
    """Strip Telegram HTML tags and unescape entities (the text a user would see)."""
    return html.unescape(_TAG_RE.sub("", text))


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class ApiCall:
    """One request the bot made, recorded when answered (``at`` = time.monotonic() then).

    A call held by a "timeout" fault is recorded on arrival with ``status`` 0 (no answer).
    ``result`` is the ``result`` of a successful answer, or the error object for a failure.
    ``body`` is how the parameters came: ``application/json``, a form type, or "" (none).
    """

    method: str
    params: JSONDict
    chat_id: int | None
    at: float
    status: int
    result: Any
    body: str = ""


@dataclass(slots=True)
class WebhookPost:
    """One update posted to the bot's webhook: when (time.monotonic()), and the HTTP status
    answered (0: no answer, the connection failed)."""

    update_id: int
    at: float
    status: int = 0
    answered_at: float = 0.0


@dataclass(slots=True)
class Gate:
    """See :meth:`FakeBotAPI.hold`: ``arrived`` is set when the held call comes; the call is
    answered once ``release`` is set."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class _Webhook:
    url: str
    secret: str | None
    max_connections: int
    queue: asyncio.Queue[JSONDict] = field(default_factory=asyncio.Queue)
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    last_error: str = ""
    last_error_date: int = 0


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart upload."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, in its current state (getters hand out snapshots)."""

    message_id: int
    chat_id: int
    kind: MessageKind
    text: str = ""
    reply_markup: JSONDict | None = None
    parse_mode: str | None = None
    document: tuple[str, bytes] | None = None
    lat: float | None = None
    lon: float | None = None
    edits: int = 0
    deleted: bool = False
    date: int = 0
    title: str | None = None
    address: str | None = None
    file_id: str | None = None

    @property
    def latitude(self) -> float | None:
        """Alias of ``lat``."""
        return self.lat

    @property
    def longitude(self) -> float | None:
        """Alias of ``lon``."""
        return self.lon

    def buttons(self) -> list[list[Button]]:
        """Rows of (text, callback_data, url); reply-keyboard buttons give (text, None, None)."""
        markup = self.reply_markup or {}
        rows: list[list[Button]] = []
        for row in markup.get("inline_keyboard") or []:
            rows.append(  # a Mini App's button gives its page's URL as the link
                [
                    (
                        str(b.get("text", "")),
                        b.get("callback_data"),
                        b.get("url") or (b.get("web_app") or {}).get("url"),
                    )
                    for b in row
                ]
            )
        for row in markup.get("keyboard") or []:
            rows.append(
                [((b if isinstance(b, str) else str(b.get("text", ""))), None, None) for b in row]
            )
        return rows

    def has_inline_keyboard(self) -> bool:
        """True if the message carries an inline keyboard with at least one button."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return any(rows)

    def button_data(self, text_contains: str) -> str:
        """callback_data of the first inline button whose text contains ``text_contains``."""
        for row in self.buttons():
            for text, data, _url in row:
                if text_contains in text and data is not None:
                    return data
        listing = "; ".join(f"{t!r} -> {d or u}" for row in self.buttons() for t, d, u in row)
        raise AssertionError(
            f"no inline button containing {text_contains!r} with callback data in message "
            f"{self.message_id}: [{listing}]"
        )

    def plain_text(self) -> str:
        """The text as the user sees it (HTML tags stripped, entities unescaped)."""
        if (self.parse_mode or "").lower() == "html":
            return html_to_plain(self.text)
        return self.text


# --------------------------------------------------------------------------- internals


class _ApiError(Exception):
    """An error answer."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class _Fault:
    method: str | None
    kind: str
    remaining: int
    retry_after: int
    chat_id: int | None
    migrate_to_chat_id: int | None

    def matches(self, key: str, chat_id: int | None) -> bool:
        if self.method is None:
            if key in INFRASTRUCTURE_METHODS:
                return False
        elif self.method != key:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self, chat_id: int | None) -> _ApiError:
        if self.kind == "429":
            return _ApiError(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        if self.kind == "403":
            return _ApiError(403, "Forbidden: bot was blocked by the user")
        if self.kind == "500":
            return _ApiError(500, "Internal Server Error")
        if self.kind == "502":
            return _ApiError(502, "Bad Gateway")
        if self.kind == "migrate":
            target = self.migrate_to_chat_id
            if target is None:
                target = (chat_id or 0) - 1_000_000_000_000
            return _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": target},
            )
        return _bad("injected failure")


@dataclass(slots=True)
class _Limits:
    per_second_total: float
    per_chat_per_second: float
    per_group_per_minute: int
    answer_429: bool
    total: deque[float] = field(default_factory=deque)
    last_private: dict[int, float] = field(default_factory=dict)
    groups: dict[int, deque[float]] = field(default_factory=dict)


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    unique_id: str
    upload: UploadedFile


def _coerce(key: str, value: Any) -> Any:
    """Turn a form value (always a string) into the type Telegram would parse it as."""
    if not isinstance(value, str):
        return value
    if key in _JSON_KEYS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {key} JSON object") from None
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError:
            if key == "chat_id":
                return value
            raise _bad(f"invalid {key} specified") from None
    if key in _FLOAT_KEYS:
        try:
            return float(value)
        except ValueError:
            raise _bad(f"invalid {key} specified") from None
    if key in _BOOL_KEYS:
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise _bad(f"invalid {key} specified")
    return value


def _update_type(update: JSONDict) -> str:
    return next((k for k in update if k != "update_id"), "")


def _now() -> int:
    return int(time.time())


def _short(params: JSONDict) -> str:
    shown = {
        k: (f"<file {v.filename} {len(v.content)}B>" if isinstance(v, UploadedFile) else v)
        for k, v in params.items()
    }
    text = repr(shown)
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------- users


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
            "date": _now(),
            **content,
        }

    def _message(self, content: JSONDict, chat_id: int | None = None) -> int:
        chat = self.chat_id if chat_id is None else chat_id
        self.last_message_id = self.server._next_message_id(chat)
        message = self._message_json(self.last_message_id, chat, content)
        return self.server.queue_update({"message": message})

    def _edit(self, message_id: int, content: JSONDict) -> int:
        """An edited_message update: one of this user's messages, as it is now."""
        message = self._message_json(message_id, self.chat_id, {"edit_date": _now(), **content})
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
                    "date": _now(),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )


# --------------------------------------------------------------------------- server


class FakeBotAPI:
    """The fake Bot API server; see the module docstring.

    Public state: ``calls`` (every ApiCall in order), ``updates`` (every queued update),
    ``violations``/``violation_log`` (see :meth:`enforce_limits`), ``blocked`` chat ids,
    ``callback_answers`` (answerCallbackQuery params by query id), ``menu_buttons``,
    ``dropped_updates`` (update id -> why it was never delivered), ``timeout_hold``,
    ``poll_timeout_cap`` (an optional upper bound for getUpdates long-poll waits) and
    ``round_trip_s`` (a network's delay before each call but getUpdates arrives).
    """

    def __init__(
        self,
        *,
        username: str = "sanctuary_demo_bot",
        first_name: str = "Sanctuary (demo)",
        port: int = 0,
        timeout_hold: float = 30.0,
    ) -> None:
        self.username = username
        self.first_name = first_name
        self.timeout_hold = timeout_hold
        self.poll_timeout_cap: float | None = None
        self.round_trip_s = 0.0  # each call but getUpdates is answered this much later
        self.in_flight_peak = 0  # the most calls (but getUpdates) being answered at once
        self._in_flight = 0
        self.calls: list[ApiCall] = []
        self.updates: list[JSONDict] = []
        self.violations = 0
        self.violation_log: list[str] = []
        self.blocked: set[int] = set()
        self.callback_answers: dict[str, JSONDict] = {}
        self.inline_answers: dict[str, JSONDict] = {}
        self._inline_queries: dict[str, int] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.dropped_updates: dict[int, str] = {}
        self.webhook_posts: list[WebhookPost] = []
        self.webhook_retry_s = 0.1  # Telegram waits longer before posting an update again
        self._hook: _Webhook | None = None
        self._gates: dict[str, Gate] = {}
        self._hook_unacked: dict[int, JSONDict] = {}
        self._session: aiohttp.ClientSession | None = None
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._pending: list[JSONDict] = []
        self._next_update_id = 1
        self._confirmed_offset = 0
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._polls_waiting = 0
        self._faults: list[_Fault] = []
        self._limits: _Limits | None = None
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, dict[int, SentMessage]] = {}
        self._message_ids: dict[int, int] = {}
        self._events: list[tuple[int, int]] = []
        self._queries: dict[str, int] = {}
        self._query_counter = 0
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = 0
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._m_get_me,
            "deletewebhook": self._m_delete_webhook,
            "setwebhook": self._m_set_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "sendvenue": self._m_send_venue,
            "sendlocation": self._m_send_location,
            "senddocument": self._m_send_document,
            "sendphoto": self._m_send_photo,
            "sendchataction": self._m_send_chat_action,
            "editmessagetext": self._m_edit_text,
            "editmessagecaption": self._m_edit_caption,
            "editmessagereplymarkup": self._m_edit_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback,
            "answerinlinequery": self._m_answer_inline,
            "setmycommands": self._m_set_commands,
            "getmycommands": self._m_get_commands,
            "deletemycommands": self._m_delete_commands,
            "setchatmenubutton": self._m_set_menu_button,
            "getchatmenubutton": self._m_get_menu_button,
            "getfile": self._m_get_file,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 (random port unless one was given)."""
        if self._runner is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; held requests and long polls are answered at once."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping = True
        self._wake()
        self._stop_hook()
        await runner.cleanup()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (after start)."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url``: the token is appended to it."""
        return f"http://{HOST}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url``."""
        return f"http://{HOST}:{self.port}/file/bot"

    # ------------------------------------------------------------------ wake-ups

    def _wake(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)

    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake()
        else:
            loop.call_soon_threadsafe(self._wake)

    async def _wait_change(self, seconds: float) -> None:
        """Return after something changed (update, call, stop) or after ``seconds``."""
        if seconds <= 0:
            return
        self._loop = self._loop or asyncio.get_running_loop()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            async with asyncio.timeout(seconds):
                await fut
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)

    async def _hold(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            await self._wait_change(left)

    # ------------------------------------------------------------------ configuration

    def bot_user(self) -> JSONDict:
        """The bot's User object."""
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def fail_next(
        self,
        method: str | None = None,
        *,
        kind: str,
        count: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail with ``kind`` (see FAULT_KINDS).

        ``method=None`` matches any method except INFRASTRUCTURE_METHODS.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._faults.append(
            _Fault(
                method.lower() if method else None,
                kind,
                count,
                retry_after,
                chat_id,
                migrate_to_chat_id,
            )
        )

    def hold(self, method: str) -> Gate:
        """Hold the next call of ``method`` unanswered until the gate is released: a handler
        that is still running, for as long as a test needs."""
        gate = Gate()
        self._gates[method.lower()] = gate
        return gate

    def clear_faults(self) -> None:
        """Forget faults that have not fired yet."""
        self._faults.clear()

    def block(self, chat_id: int) -> None:
        """Every send to ``chat_id`` answers 403 until :meth:`unblock`."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block`."""
        self.blocked.discard(chat_id)

    def enforce_limits(
        self,
        per_second_total: float = 30,
        per_chat_per_second: float = 1,
        per_group_per_minute: int = 20,
        answer_429: bool = False,
    ) -> None:
        """Count flood-limit violations of send* calls (sendChatAction excluded) in violations."""
        self._limits = _Limits(
            per_second_total, per_chat_per_second, per_group_per_minute, answer_429
        )

    def disable_limits(self) -> None:
        """Stop counting rate-limit violations."""
        self._limits = None

    # ------------------------------------------------------------------ users and updates

    def user(
        self, user_id: int, first_name: str = "Amal", language_code: str | None = "en"
    ) -> FakeUser:
        """A user with a private chat whose id is ``user_id``."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        fake = FakeUser(self, user_id, first_name, language_code)
        self._users[user_id] = fake
        return fake

    def queue_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        stored = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self.updates.append(stored)
        if self._hook is not None:
            self._hook_unacked[update_id] = stored
            self._in_loop(self._hook.queue.put_nowait, stored)
        else:
            self._pending.append(stored)
        self._notify()
        return update_id

    def _in_loop(self, call: Callable[[JSONDict], None], value: JSONDict) -> None:
        """Call ``call(value)`` on the server's event loop (this may be another thread)."""
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            call(value)
        else:
            loop.call_soon_threadsafe(call, value)

    # ------------------------------------------------------------------ webhook

    @property
    def webhook_url(self) -> str | None:
        """The URL given to setWebhook (None while the bot polls)."""
        return self._hook.url if self._hook is not None else None

    @property
    def webhook_acknowledged(self) -> list[int]:
        """The update_ids the bot answered 2xx to, in order of their answers."""
        return [p.update_id for p in self.webhook_posts if 200 <= p.status < 300]

    async def post_to_webhook(
        self, update: JSONDict, *, secret: object = _KEEP_SECRET, url: str | None = None
    ) -> int:
        """Post one update to the webhook (``url``, default the one set) with ``secret`` in
        the secret header (default the one set; None: no header). Returns the HTTP status,
        0 when the connection failed. Not queued: nothing is posted again."""
        hook = self._hook
        target = url or (hook.url if hook is not None else None)
        if target is None:
            raise RuntimeError("no webhook is set and no url was given")
        given = (hook.secret if hook is not None else None) if secret is _KEEP_SECRET else secret
        return await self._post_update(update, target, given if isinstance(given, str) else None)

    async def _post_update(self, update: JSONDict, url: str, secret: str | None) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        post = WebhookPost(int(update.get("update_id", 0)), time.monotonic())
        self.webhook_posts.append(post)
        try:
            async with self._session.post(
                url, data=json.dumps(update), headers=headers | {"Content-Type": "application/json"}
            ) as response:
                await response.read()
                post.status = response.status
        except (aiohttp.ClientError, OSError):
            post.status = 0
        post.answered_at = time.monotonic()
        self._notify()
        return post.status

    async def _hook_worker(self, hook: _Webhook) -> None:
        while True:
            update = await hook.queue.get()
            update_id = int(update["update_id"])
            if update_id not in self._hook_unacked:
                continue
            kind = _update_type(update)
            if kind not in self._allowed_updates:
                self.dropped_updates[update_id] = (
                    f"{kind} is not in allowed_updates {sorted(self._allowed_updates)}"
                )
                del self._hook_unacked[update_id]
                continue
            status = await self._post_update(update, hook.url, hook.secret)
            if 200 <= status < 300:
                self._hook_unacked.pop(update_id, None)
                continue
            hook.last_error = f"Wrong response from the webhook: {status}"
            hook.last_error_date = _now()
            await asyncio.sleep(self.webhook_retry_s)
            hook.queue.put_nowait(update)  # again, as Telegram does

    def _start_hook(self, url: str, secret: str | None, max_connections: int) -> None:
        hook = self._hook
        if hook is not None and (hook.url, hook.secret) == (url, secret):
            return  # the same webhook set again: its queue goes on
        self._stop_hook()
        hook = self._hook = _Webhook(url, secret, max_connections)
        waiting = sorted(self._hook_unacked) + [int(u["update_id"]) for u in self._pending]
        for update in self._pending:
            self._hook_unacked[int(update["update_id"])] = update
        self._pending = []
        for update_id in waiting:
            hook.queue.put_nowait(self._hook_unacked[update_id])
        hook.workers = [
            asyncio.create_task(self._hook_worker(hook), name="fake-webhook")
            for _ in range(max_connections)
        ]

    def _stop_hook(self) -> None:
        """Stop posting; what was not acknowledged waits for getUpdates again."""
        hook, self._hook = self._hook, None
        if hook is None:
            return
        for worker in hook.workers:
            worker.cancel()
        self._pending = [self._hook_unacked[i] for i in sorted(self._hook_unacked)] + self._pending
        self._hook_unacked = {}

    def _next_message_id(self, chat_id: int) -> int:
        next_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = next_id
        return next_id

    def _press(self, user: FakeUser, data: str, message_id: int) -> int:
        message = self._chats.get(user.chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise AssertionError(f"chat {user.chat_id} has no bot message {message_id} to press")
        self._query_counter += 1
        query_id = str(4_000_000_000_000_000 + self._query_counter)
        self._queries[query_id] = user.chat_id
        return self.queue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_dict(),
                    "message": self._message_json(message),
                    "chat_instance": str(7_000_000_000 + user.chat_id),
                    "data": data,
                }
            }
        )

    def _inline_query(self, user: FakeUser, query: str, chat_type: str) -> int:
        self._query_counter += 1
        query_id = str(5_000_000_000_000_000 + self._query_counter)
        self._inline_queries[query_id] = user.user_id
        inline = {"id": query_id, "from": user.to_dict(), "query": query, "offset": ""}
        return self.queue_update({"inline_query": {**inline, "chat_type": chat_type}})

    # ------------------------------------------------------------------ inspection

    @property
    def commands(self) -> dict[str, list[JSONDict]]:
        """Default-scope commands by language code ("" = all languages)."""
        return {
            lang: [dict(c) for c in cmds]
            for (scope, lang), cmds in self._commands.items()
            if scope == _DEFAULT_SCOPE
        }

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Commands set for a scope (default scope if None) and language."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return [dict(c) for c in self._commands.get(key, [])]

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Snapshots of every message the bot sent to ``chat_id`` (deleted ones flagged)."""
        return [dataclasses.replace(m) for m in self._chats.get(chat_id, {}).values()]

    def last_message(self, chat_id: int, *, inline_keyboard: bool = False) -> SentMessage | None:
        """The latest non-deleted bot message in the chat (optionally one with inline buttons)."""
        for message in reversed(self._chats.get(chat_id, {}).values()):
            if message.deleted or (inline_keyboard and not message.has_inline_keyboard()):
                continue
            return dataclasses.replace(message)
        return None

    def mark(self) -> int:
        """A position in the send/edit event stream, for :meth:`messages_since`."""
        return len(self._events)

    def messages_since(self, chat_id: int, mark: int) -> list[SentMessage]:
        """Messages sent or edited in ``chat_id`` after ``mark``, each once, in latest state.

        Ordered by their first send/edit after the mark; deleted ones are included, flagged.
        """
        seen: dict[int, None] = {}
        for event_chat, message_id in self._events[mark:]:
            if event_chat == chat_id:
                seen.setdefault(message_id, None)
        chat = self._chats.get(chat_id, {})
        return [dataclasses.replace(chat[mid]) for mid in seen]

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive)."""
        key = method.lower()
        return [c for c in self.calls if c.method.lower() == key]

    def describe_calls(self, last: int = 15) -> str:
        """A readable list of the last calls, for assertion messages."""
        start = max(0, len(self.calls) - last)
        lines = [
            f"  #{i} {c.method} chat={c.chat_id} status={c.status} {_short(c.params)}"
            for i, c in enumerate(self.calls[start:], start)
        ]
        return "\n".join(lines) or "  (no calls)"

    async def wait_for_call(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int = 0,
    ) -> ApiCall:
        """The first recorded call at index >= ``since`` matching ``predicate`` (waits for it)."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            while index < len(self.calls):
                call = self.calls[index]
                index += 1
                if predicate(call):
                    return call
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no matching API call within {timeout}s (since #{since}); last calls:\n"
                    + self.describe_calls()
                )
            await self._wait_change(left)

    @property
    def polling(self) -> bool:
        """True while a getUpdates request is being served (waiting for updates)."""
        return self._polls_waiting > 0

    async def wait_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once a getUpdates request is waiting at the server."""
        deadline = time.monotonic() + timeout
        while not self.polling:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"the bot did not poll within {timeout}s; last calls:\n" + self.describe_calls()
                )
            await self._wait_change(left)

    async def wait_confirmed(self, update_id: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once the bot called getUpdates with an offset above ``update_id``."""
        deadline = time.monotonic() + timeout
        while True:
            if update_id in self.dropped_updates:
                raise AssertionError(
                    f"update {update_id} was never delivered: {self.dropped_updates[update_id]}"
                )
            if self._confirmed_offset > update_id:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                pending = [u["update_id"] for u in self._pending]
                raise TimeoutError(
                    f"update {update_id} not confirmed within {timeout}s (offset "
                    f"{self._confirmed_offset}, pending {pending}); last calls:\n"
                    + self.describe_calls()
                )
            await self._wait_change(left)

    # ------------------------------------------------------------------ HTTP

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        for stored in self._files.values():
            if self._file_path(stored) == path:
                return web.Response(body=stored.upload.content)
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_params(self, request: web.Request) -> JSONDict:
        raw: JSONDict = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise _bad("request body must be a JSON object")
                raw.update(body)
            elif request.content_type in (
                "multipart/form-data",
                "application/x-www-form-urlencoded",
            ):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(
                            value.filename, value.file.read(), value.content_type
                        )
                    else:
                        raw[key] = value
        params = {key: _coerce(key, value) for key, value in raw.items()}
        used: set[str] = set()
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name not in files:
                    raise _bad(f"file {value} not found in the request")
                params[key] = files[name]
                used.add(name)
        for name, upload in files.items():
            if name not in used and name not in params:
                params[name] = upload
        return params

    def _call_chat(self, key: str, params: JSONDict) -> int | None:
        chat = params.get("chat_id")
        if isinstance(chat, int) and not isinstance(chat, bool):
            return chat
        if key == "answercallbackquery":
            return self._queries.get(str(params.get("callback_query_id", "")))
        return None

    def _take_fault(self, key: str, chat_id: int | None) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(key, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _record(
        self,
        method: str,
        params: JSONDict,
        chat_id: int | None,
        status: int,
        result: Any,
        request: web.Request,
    ) -> None:
        body = request.content_type if request.body_exists else ""
        self.calls.append(ApiCall(method, params, chat_id, time.monotonic(), status, result, body))
        self._notify()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_method = request.match_info["method"]
        key = raw_method.lower()
        method = _CANONICAL.get(key, raw_method)
        params: JSONDict = {}
        chat_id: int | None = None
        gate = self._gates.pop(key, None)
        if gate is not None:
            gate.arrived.set()
            await gate.release.wait()
        try:
            params = await self._read_params(request)
            chat_id = self._call_chat(key, params)
            if self.round_trip_s > 0 and key != "getupdates":
                self._in_flight += 1
                self.in_flight_peak = max(self.in_flight_peak, self._in_flight)
                try:
                    await asyncio.sleep(self.round_trip_s)  # checked and recorded on arrival
                finally:
                    self._in_flight -= 1
            fault = self._take_fault(key, chat_id)
            if fault is not None and fault.kind == "timeout":
                self._record(method, params, chat_id, 0, None, request)
                await self._hold(self.timeout_hold)
                return web.json_response(_ApiError(504, "Gateway Timeout").body(), status=504)
            if fault is not None:
                raise fault.error(chat_id)
            self._check_blocked(key, chat_id)
            self._check_limits(key, chat_id)
            if key == "getupdates":
                result: Any = await self._get_updates(params)
            else:
                handler = self._handlers.get(key)
                result = handler(params) if handler is not None else True
        except _ApiError as err:
            self._record(method, params, chat_id, err.status, err.body(), request)
            return web.json_response(err.body(), status=err.status)
        except Exception as exc:  # a bug here or input we do not model: answer like a 500
            error = _ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
            self._record(method, params, chat_id, error.status, error.body(), request)
            return web.json_response(error.body(), status=error.status)
        self._record(method, params, chat_id, 200, result, request)
        return web.json_response({"ok": True, "result": result})

    def _check_blocked(self, key: str, chat_id: int | None) -> None:
        if chat_id is None or chat_id not in self.blocked:
            return
        if key.startswith(("send", "edit", "copy", "forward")):
            if chat_id > 0:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            raise _ApiError(403, "Forbidden: bot was kicked from the group chat")

    def _check_limits(self, key: str, chat_id: int | None) -> None:
        limits = self._limits
        if limits is None or not key.startswith("send") or key == "sendchataction":
            return
        now = time.monotonic()
        problems: list[str] = []
        while limits.total and limits.total[0] <= now - 1.0:
            limits.total.popleft()
        if len(limits.total) >= limits.per_second_total:
            problems.append(f"more than {limits.per_second_total:g} sends in 1 s")
        group: deque[float] | None = None
        if chat_id is not None and chat_id > 0:
            last = limits.last_private.get(chat_id)
            gap = 1.0 / limits.per_chat_per_second if limits.per_chat_per_second > 0 else 0.0
            if last is not None and now - last < gap:
                problems.append(f"chat {chat_id}: {now - last:.3f} s since previous send")
        elif chat_id is not None:
            group = limits.groups.setdefault(chat_id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= limits.per_group_per_minute:
                problems.append(f"group {chat_id}: more than {limits.per_group_per_minute}/min")
        if problems:
            self.violations += 1
            self.violation_log.append(f"{_CANONICAL.get(key, key)}: " + "; ".join(problems))
            if limits.answer_429:
                raise _ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        limits.total.append(now)
        if chat_id is not None and chat_id > 0:
            limits.last_private[chat_id] = now
        elif group is not None:
            group.append(now)

    # ------------------------------------------------------------------ getUpdates

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = self._pending[offset:]
            offset = int(keep[0]["update_id"]) if keep else self._next_update_id
        self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if offset > self._confirmed_offset:
            self._confirmed_offset = offset
            self._notify()

    def _drop_pending(self, reason: str) -> None:
        for update in self._pending:
            self.dropped_updates[int(update["update_id"])] = reason
        self._pending = []
        self._notify()

    def _deliverable(self, limit: int) -> list[JSONDict]:
        keep: list[JSONDict] = []
        for update in self._pending:
            kind = _update_type(update)
            if kind in self._allowed_updates:
                keep.append(update)
            else:
                self.dropped_updates[int(update["update_id"])] = (
                    f"{kind} is not in allowed_updates {sorted(self._allowed_updates)}"
                )
        if len(keep) != len(self._pending):
            self._pending = keep
            self._notify()
        return [dict(u) for u in keep[:limit]]

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._hook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting ends with 409 like on Telegram
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            self._confirm(offset)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        limit = params.get("limit", 100)
        limit = min(100, max(1, limit if isinstance(limit, int) else 100))
        timeout = params.get("timeout", 0)
        wait = max(0.0, float(timeout) if isinstance(timeout, int | float) else 0.0)
        if self.poll_timeout_cap is not None:
            wait = min(wait, self.poll_timeout_cap)
        deadline = time.monotonic() + wait
        self._polls_waiting += 1
        self._notify()
        try:
            return await self._poll(generation, limit, deadline)
        finally:
            self._polls_waiting -= 1

    async def _poll(self, generation: int, limit: int, deadline: float) -> list[JSONDict]:
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            batch = self._deliverable(limit)
            if batch or self._stopping:
                return batch
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            await self._wait_change(left)

    # ------------------------------------------------------------------ message helpers

    def _chat_json(self, chat_id: int) -> JSONDict:
        if chat_id > 0:
            user = self._users.get(chat_id)
            return {
                "id": chat_id,
                "type": "private",
                "first_name": user.first_name if user else "User",
            }
        if str(chat_id).startswith("-100"):
            return {"id": chat_id, "type": "supergroup", "title": "Group"}
        return {"id": chat_id, "type": "group", "title": "Group"}

    def _file_path(self, stored: _StoredFile) -> str:
        folder = "photos" if stored.file_id.startswith("AgAC") else "documents"
        return f"{folder}/{stored.unique_id}_{stored.upload.filename}"

    def _message_json(self, message: SentMessage) -> JSONDict:
        data: JSONDict = {
            "message_id": message.message_id,
            "from": self.bot_user(),
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.edits:
            data["edit_date"] = _now()
        plain = message.plain_text()
        location = {"latitude": message.lat, "longitude": message.lon}
        stored = self._files.get(message.file_id or "")
        if message.kind == "text":
            data["text"] = plain
        elif message.kind == "location":
            data["location"] = location
        elif message.kind == "venue":
            data["location"] = location
            data["venue"] = {
                "location": location,
                "title": message.title or "",
                "address": message.address or "",
            }
        elif stored is not None:
            upload = stored.upload
            if message.kind == "document":
                data["document"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.unique_id,
                    "file_name": upload.filename,
                    "mime_type": upload.content_type or "application/octet-stream",
                    "file_size": len(upload.content),
                }
            else:
                data["photo"] = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.unique_id,
                        "width": 320,
                        "height": 320,
                        "file_size": len(upload.content),
                    }
                ]
        if message.kind in ("document", "photo") and plain:
            data["caption"] = plain
        markup = message.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        return data

    def _chat_param(self, params: JSONDict) -> int:
        chat = params.get("chat_id")
        if chat is None or chat == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat, int) or isinstance(chat, bool) or chat == 0:
            raise _bad("chat not found")
        return chat

    @staticmethod
    def _parse_mode(params: JSONDict) -> str | None:
        mode = params.get("parse_mode")
        if mode is None or mode == "":
            return None
        if not isinstance(mode, str) or mode.lower() not in ("html", "markdown", "markdownv2"):
            raise _bad(f"unsupported parse_mode {mode!r}")
        return mode

    @staticmethod
    def _check_text(text: Any, parse_mode: str | None, *, caption: bool) -> str:
        if text is None:
            text = ""
        if isinstance(text, int | float) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str):
            raise _bad("message text must be a string")
        plain = text
        if parse_mode is not None and parse_mode.lower() == "html":
            error = html_error(text)
            if error is not None:
                raise _bad(f"can't parse entities: {error}")
            plain = html_to_plain(text)
        length = len(plain.encode("utf-16-le")) // 2  # as Telegram counts: an emoji is two
        if caption:
            if length > MAX_CAPTION:
                raise _bad("message caption is too long")
        else:
            if not plain.strip():
                raise _bad("message text is empty")
            if length > MAX_TEXT:
                raise _bad("message is too long")
        return text

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
        count = 0
        for row in rows:
            for button in row:
                count += 1
                FakeBotAPI._check_button(button)
        if count > MAX_INLINE_BUTTONS:
            raise _bad(f"too many inline keyboard buttons ({count} > {MAX_INLINE_BUTTONS})")
        return markup

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: button must be an Object")
        text = button.get("text")
        if not isinstance(text, str) or not text:
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            parts = urlsplit(url) if isinstance(url, str) else None
            ok = parts is not None and (
                parts.scheme == "tg"
                or (parts.scheme in ("http", "https") and "." in (parts.hostname or ""))
            )
            if not ok:
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        if "web_app" in button:  # Telegram opens only https pages as Mini Apps
            web_app = button["web_app"]
            url = web_app.get("url") if isinstance(web_app, dict) else None
            if not isinstance(url, str) or urlsplit(url).scheme != "https":
                raise _bad("BUTTON_URL_INVALID")

    def _check_reply(self, chat_id: int, params: JSONDict) -> None:
        reply = params.get("reply_parameters")
        target = reply.get("message_id") if isinstance(reply, dict) else None
        if target is None:
            target = params.get("reply_to_message_id")
        if not isinstance(target, int):
            return
        allow = params.get("allow_sending_without_reply") or (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        )
        bot_message = self._chats.get(chat_id, {}).get(target)
        missing = target > self._message_ids.get(chat_id, 0) or (
            bot_message is not None and bot_message.deleted
        )
        if missing and not allow:
            raise _bad("message to be replied not found")

    def _store(self, message: SentMessage) -> JSONDict:
        self._chats.setdefault(message.chat_id, {})[message.message_id] = message
        self._events.append((message.chat_id, message.message_id))
        return self._message_json(message)

    def _new_message(self, chat_id: int, kind: MessageKind, params: JSONDict) -> SentMessage:
        self._check_reply(chat_id, params)
        markup = self._check_markup(params.get("reply_markup"))
        return SentMessage(
            message_id=self._next_message_id(chat_id),
            chat_id=chat_id,
            kind=kind,
            reply_markup=markup,
            date=_now(),
        )

    def _store_upload(self, value: Any, field_name: str) -> _StoredFile:
        if isinstance(value, UploadedFile):
            self._file_counter += 1
            prefix = "AgAC" if field_name == "photo" else "BQAC"
            stored = _StoredFile(
                f"{prefix}{self._file_counter:08d}", f"AQAD{self._file_counter:06d}", value
            )
            self._files[stored.file_id] = stored
            return stored
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rstrip("/").rsplit("/", 1)[-1] or field_name
            return self._store_upload(UploadedFile(name, b""), field_name)
        if value is None or value == "":
            raise _bad(f"there is no {field_name} in the request")
        raise _bad("wrong file identifier/HTTP URL specified")

    def _find(self, chat_id: int, params: JSONDict, action: str) -> SentMessage:
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        message = self._chats.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise _bad(f"message to {action} not found")
        return message

    @staticmethod
    def _location(params: JSONDict) -> tuple[float, float]:
        lat, lon = params.get("latitude"), params.get("longitude")
        if not isinstance(lat, int | float) or not -90 <= lat <= 90:
            raise _bad("wrong latitude specified")
        if not isinstance(lon, int | float) or not -180 <= lon <= 180:
            raise _bad("wrong longitude specified")
        return float(lat), float(lon)

    # ------------------------------------------------------------------ methods

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_delete_webhook(self, params: JSONDict) -> bool:
        self._stop_hook()
        if params.get("drop_pending_updates"):
            self._drop_pending("dropped by deleteWebhook(drop_pending_updates=True)")
        return True

    def _m_set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not url:
            return self._m_delete_webhook(params)
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_RE.fullmatch(secret)):
            raise _bad("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        connections = params.get("max_connections", 40)
        connections = connections if isinstance(connections, int) else 40
        if not 1 <= connections <= 100:
            raise _bad("bad webhook: max_connections must be from 1 to 100")
        if params.get("drop_pending_updates"):
            self._stop_hook()
            self._drop_pending("dropped by setWebhook(drop_pending_updates=True)")
        self._start_hook(url, secret, connections)
        return True

    def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        hook = self._hook
        info: JSONDict = {
            "url": hook.url if hook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending) + len(self._hook_unacked),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["allowed_updates"] = sorted(self._allowed_updates)
            if hook.last_error:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error
        return info

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_param(params)
        parse_mode = self._parse_mode(params)
        text = self._check_text(params.get("text"), parse_mode, caption=False)
        message = self._new_message(chat_id, "text", params)
        message.text, message.parse_mode = text, parse_mode
        return self._store(message)

    def _m_send_location(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_param(params)
        lat, lon = self._location(params)
        message = self._new_message(chat_id, "location", params)
        message.lat, message.lon = lat, lon
        return self._store(message)

    def _m_send_venue(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_param(params)
        lat, lon = self._location(params)
        title, address = params.get("title"), params.get("address")
        if not isinstance(title, str) or not title.strip():
            raise _bad("venue title is empty")
        if not isinstance(address, str) or not address.strip():
            raise _bad("venue address is empty")
        message = self._new_message(chat_id, "venue", params)
        message.lat, message.lon = lat, lon
        message.title, message.address = title, address
        message.text = f"{title}\n{address}"
        return self._store(message)

    def _send_file(self, params: JSONDict, kind: Literal["document", "photo"]) -> JSONDict:
        chat_id = self._chat_param(params)
        parse_mode = self._parse_mode(params)
        caption = self._check_text(params.get("caption"), parse_mode, caption=True)
        stored = self._store_upload(params.get(kind), kind)
        message = self._new_message(chat_id, kind, params)
        message.text, message.parse_mode = caption, parse_mode
        message.document = (stored.upload.filename, stored.upload.content)
        message.file_id = stored.file_id
        return self._store(message)

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "document")

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "photo")

    def _m_send_chat_action(self, params: JSONDict) -> bool:
        self._chat_param(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _not_modified(self) -> _ApiError:
        return _bad(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )

    def _edited(self, message: SentMessage) -> JSONDict:
        message.edits += 1
        self._events.append((message.chat_id, message.message_id))
        return self._message_json(message)

    @staticmethod
    def _inline(markup: JSONDict | None) -> JSONDict | None:
        return markup if markup is not None and "inline_keyboard" in markup else None

    def _m_edit_text(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_param(params)
        parse_mode = self._parse_mode(params)
        text = self._check_text(params.get("text"), parse_mode, caption=False)
        markup = self._check_markup(params.get("reply_markup"))
        message = self._find(chat_id, params, "edit")
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        same_mode = (parse_mode or "").lower() == (message.parse_mode or "").lower()
        if text == message.text and same_mode and markup == self._inline(message.reply_markup):
            raise self._not_modified()
        message.text, message.parse_mode, message.reply_markup = text, parse_mode, markup
        return self._edited(message)

    def _m_edit_caption(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_param(params)
        parse_mode = self._parse_mode(params)
        caption = self._check_text(params.get("caption"), parse_mode, caption=True)
        markup = self._check_markup(params.get("reply_markup"))
        message = self._find(chat_id, params, "edit")
        if message.kind not in ("document", "photo"):
            raise _bad("there is no caption in the message to edit")
        same_mode = (parse_mode or "").lower() == (message.parse_mode or "").lower()
        if caption == message.text and same_mode and markup == self._inline(message.reply_markup):
            raise self._not_modified()
        message.text, message.parse_mode, message.reply_markup = caption, parse_mode, markup
        return self._edited(message)

    def _m_edit_markup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_param(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        message = self._find(chat_id, params, "edit")
        if markup == self._inline(message.reply_markup):
            raise self._not_modified()
        message.reply_markup = markup
        return self._edited(message)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_param(params)
        message = self._find(chat_id, params, "delete")
        message.deleted = True
        self._notify()
        return True

    def _m_answer_callback(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or query_id in self.callback_answers:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = dict(params)
        return True

    def _m_answer_inline(self, params: JSONDict) -> bool:
        """answerInlineQuery, checked as Telegram checks it: a known query answered once, at
        most 50 results with distinct ids of 1 to 64 bytes, each article's text as a message's."""
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not isinstance(result.get("type"), str):
                raise _bad("can't parse InlineQueryResult JSON object")
            result_id = result.get("id")
            if not isinstance(result_id, str) or not (
                1 <= len(result_id.encode()) <= MAX_INLINE_RESULT_ID
            ):
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._check_inline_result(result)
        button = params.get("button")
        if button is not None:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad("can't parse InlineQueryResultsButton JSON object")
            start = button.get("start_parameter")
            if "web_app" not in button and not (
                isinstance(start, str) and _START_PARAMETER_RE.fullmatch(start)
            ):
                raise _bad("START_PARAM_INVALID")
        cache_time = params.get("cache_time")
        if cache_time is not None and (not isinstance(cache_time, int) or cache_time < 0):
            raise _bad("cache_time must be a non-negative integer")
        self.inline_answers[query_id] = dict(params)
        self._notify()
        return True

    def _check_inline_result(self, result: JSONDict) -> None:
        if result["type"] == "article" and not (
            isinstance(result.get("title"), str) and result["title"].strip()
        ):
            raise _bad("RESULT_TITLE_EMPTY")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            self._check_text(content["message_text"], self._parse_mode(content), caption=False)
        elif result["type"] == "article":
            raise _bad("can't parse InputMessageContent JSON object")
        self._check_markup(result.get("reply_markup"))

    @staticmethod
    def _scope_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        language = params.get("language_code") or ""
        if not isinstance(language, str) or not _LANGUAGE_RE.fullmatch(language):
            raise _bad("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language

    def _m_set_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        clean: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        self._commands[self._scope_key(params)] = clean
        return True

    def _m_get_commands(self, params: JSONDict) -> list[JSONDict]:
        return [dict(c) for c in self._commands.get(self._scope_key(params), [])]

    def _m_delete_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _m_set_menu_button(self, params: JSONDict) -> bool:
        chat = params.get("chat_id")
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise _bad("can't parse menu button JSON object")
        self.menu_buttons[chat if isinstance(chat, int) else None] = button
        return True

    def _m_get_menu_button(self, params: JSONDict) -> JSONDict:
        chat = params.get("chat_id")
        key = chat if isinstance(chat, int) else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.upload.content),
            "file_path": self._file_path(stored),
        }


# --------------------------------------------------------------------------- driver


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
