"""The chats as the fake Bot API keeps them: every message the bot sent (as it is now, edits
and deletions included), the files it uploaded, the button presses and inline queries waiting
for their answers, the commands and menu buttons it set; and the Bot API methods that change
them (send*, edit*, deleteMessage, answerCallbackQuery, answerInlineQuery, setMyCommands, ...).

:class:`Chats` is a part of :class:`tests.fakeapi.FakeBotAPI` (its base class): a test reads
``server.messages(chat_id)``, ``server.last_message(chat_id)``, ``server.commands``...
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tests.fakeapi.rules import (
    MAX_CALLBACK_ANSWER,
    MAX_INLINE_RESULT_ID,
    MAX_INLINE_RESULTS,
    START_PARAMETER_RE,
    ApiError,
    bad,
    chat_param,
    check_markup,
    check_text,
    html_to_plain,
    location,
    now,
    read_parse_mode,
    scope_key,
    words,
)

JSONDict = dict[str, Any]
MessageKind = Literal["text", "venue", "location", "document", "photo"]
Button = tuple[str, str | None, str | None]
BOT_ID = 1000
_CHAT_ACTIONS = words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note upload_video_note"
)
_DEFAULT_SCOPE = '{"type": "default"}'
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


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


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    unique_id: str
    upload: UploadedFile


class Chats:
    """The bot's chats: its messages, files, pending queries, commands and menu buttons.

    Public state: ``callback_answers`` (answerCallbackQuery params by query id),
    ``inline_answers`` (answerInlineQuery params by query id), ``menu_buttons``.
    """

    def __init__(self, username: str, first_name: str) -> None:
        self.username = username
        self.first_name = first_name
        self.callback_answers: dict[str, JSONDict] = {}
        self.inline_answers: dict[str, JSONDict] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self._names: dict[int, str] = {}  # people's first names by user id
        self._chats: dict[int, dict[int, SentMessage]] = {}
        self._message_ids: dict[int, int] = {}
        self._events: list[tuple[int, int]] = []
        self._queries: dict[str, int] = {}
        self._inline_queries: dict[str, int] = {}
        self._query_counter = 0
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = 0
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

    def bot_user(self) -> JSONDict:
        """The bot's User object."""
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _methods(self) -> dict[str, Callable[[JSONDict], Any]]:
        """The Bot API methods answered here, by lower-case name."""
        return {
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

    def _next_message_id(self, chat_id: int) -> int:
        next_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = next_id
        return next_id

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

    # ------------------------------------------------------------------ message helpers

    def _chat_json(self, chat_id: int) -> JSONDict:
        if chat_id > 0:
            return {
                "id": chat_id,
                "type": "private",
                "first_name": self._names.get(chat_id, "User"),
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
            data["edit_date"] = now()
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
            raise bad("message to be replied not found")

    def _store(self, message: SentMessage) -> JSONDict:
        self._chats.setdefault(message.chat_id, {})[message.message_id] = message
        self._events.append((message.chat_id, message.message_id))
        return self._message_json(message)

    def _new_message(self, chat_id: int, kind: MessageKind, params: JSONDict) -> SentMessage:
        self._check_reply(chat_id, params)
        markup = check_markup(params.get("reply_markup"))
        return SentMessage(
            message_id=self._next_message_id(chat_id),
            chat_id=chat_id,
            kind=kind,
            reply_markup=markup,
            date=now(),
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
            raise bad(f"there is no {field_name} in the request")
        raise bad("wrong file identifier/HTTP URL specified")

    def _find(self, chat_id: int, params: JSONDict, action: str) -> SentMessage:
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise bad("message identifier is not specified")
        message = self._chats.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise bad(f"message to {action} not found")
        return message

    # ------------------------------------------------------------------ methods

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = chat_param(params)
        parse_mode = read_parse_mode(params)
        text = check_text(params.get("text"), parse_mode, caption=False)
        message = self._new_message(chat_id, "text", params)
        message.text, message.parse_mode = text, parse_mode
        return self._store(message)

    def _m_send_location(self, params: JSONDict) -> JSONDict:
        chat_id = chat_param(params)
        lat, lon = location(params)
        message = self._new_message(chat_id, "location", params)
        message.lat, message.lon = lat, lon
        return self._store(message)

    def _m_send_venue(self, params: JSONDict) -> JSONDict:
        chat_id = chat_param(params)
        lat, lon = location(params)
        title, address = params.get("title"), params.get("address")
        if not isinstance(title, str) or not title.strip():
            raise bad("venue title is empty")
        if not isinstance(address, str) or not address.strip():
            raise bad("venue address is empty")
        message = self._new_message(chat_id, "venue", params)
        message.lat, message.lon = lat, lon
        message.title, message.address = title, address
        message.text = f"{title}\n{address}"
        return self._store(message)

    def _send_file(self, params: JSONDict, kind: Literal["document", "photo"]) -> JSONDict:
        chat_id = chat_param(params)
        parse_mode = read_parse_mode(params)
        caption = check_text(params.get("caption"), parse_mode, caption=True)
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
        chat_param(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _not_modified(self) -> ApiError:
        return bad(
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
        return self._edit_words(params, caption=False)

    def _m_edit_caption(self, params: JSONDict) -> JSONDict | bool:
        return self._edit_words(params, caption=True)

    def _edit_words(self, params: JSONDict, *, caption: bool) -> JSONDict | bool:
        """editMessageText (a text message's text) or editMessageCaption (a file's caption)."""
        if params.get("inline_message_id"):
            return True
        chat_id = chat_param(params)
        parse_mode = read_parse_mode(params)
        text = check_text(params.get("caption" if caption else "text"), parse_mode, caption=caption)
        markup = check_markup(params.get("reply_markup"))
        message = self._find(chat_id, params, "edit")
        if caption and message.kind not in ("document", "photo"):
            raise bad("there is no caption in the message to edit")
        if not caption and message.kind != "text":
            raise bad("there is no text in the message to edit")
        same_mode = (parse_mode or "").lower() == (message.parse_mode or "").lower()
        if text == message.text and same_mode and markup == self._inline(message.reply_markup):
            raise self._not_modified()
        message.text, message.parse_mode, message.reply_markup = text, parse_mode, markup
        return self._edited(message)

    def _m_edit_markup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = chat_param(params)
        markup = check_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad("inline keyboard expected")
        message = self._find(chat_id, params, "edit")
        if markup == self._inline(message.reply_markup):
            raise self._not_modified()
        message.reply_markup = markup
        return self._edited(message)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat_id = chat_param(params)
        message = self._find(chat_id, params, "delete")
        message.deleted = True
        return True

    def _m_answer_callback(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or query_id in self.callback_answers:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise bad("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = dict(params)
        return True

    def _m_answer_inline(self, params: JSONDict) -> bool:
        """answerInlineQuery, checked as Telegram checks it: a known query answered once, at
        most 50 results with distinct ids of 1 to 64 bytes, each article's text as a message's."""
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list):
            raise bad("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not isinstance(result.get("type"), str):
                raise bad("can't parse InlineQueryResult JSON object")
            result_id = result.get("id")
            if not isinstance(result_id, str) or not (
                1 <= len(result_id.encode()) <= MAX_INLINE_RESULT_ID
            ):
                raise bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._check_inline_result(result)
        button = params.get("button")
        if button is not None:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad("can't parse InlineQueryResultsButton JSON object")
            start = button.get("start_parameter")
            if "web_app" not in button and not (
                isinstance(start, str) and START_PARAMETER_RE.fullmatch(start)
            ):
                raise bad("START_PARAM_INVALID")
        cache_time = params.get("cache_time")
        if cache_time is not None and (not isinstance(cache_time, int) or cache_time < 0):
            raise bad("cache_time must be a non-negative integer")
        self.inline_answers[query_id] = dict(params)
        return True

    def _check_inline_result(self, result: JSONDict) -> None:
        if result["type"] == "article" and not (
            isinstance(result.get("title"), str) and result["title"].strip()
        ):
            raise bad("RESULT_TITLE_EMPTY")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            check_text(content["message_text"], read_parse_mode(content), caption=False)
        elif result["type"] == "article":
            raise bad("can't parse InputMessageContent JSON object")
        check_markup(result.get("reply_markup"))

    def _m_set_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("too many commands")
        clean: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        self._commands[scope_key(params)] = clean
        return True

    def _m_get_commands(self, params: JSONDict) -> list[JSONDict]:
        return [dict(c) for c in self._commands.get(scope_key(params), [])]

    def _m_delete_commands(self, params: JSONDict) -> bool:
        self._commands.pop(scope_key(params), None)
        return True

    def _m_set_menu_button(self, params: JSONDict) -> bool:
        chat = params.get("chat_id")
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad("can't parse menu button JSON object")
        self.menu_buttons[chat if isinstance(chat, int) else None] = button
        return True

    def _m_get_menu_button(self, params: JSONDict) -> JSONDict:
        chat = params.get("chat_id")
        key = chat if isinstance(chat, int) else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.upload.content),
            "file_path": self._file_path(stored),
        }
