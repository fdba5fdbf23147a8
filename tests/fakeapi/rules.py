"""What the fake Bot API accepts, as Telegram does: how a call's parameters are read, and the
checks of texts (HTML, lengths), keyboards, locations and commands that Telegram would refuse.

Every check raises :class:`ApiError` with the status and description Telegram answers with.
"""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

JSONDict = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
MAX_INLINE_RESULTS = 50
MAX_INLINE_RESULT_ID = 64  # bytes
START_PARAMETER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CANONICAL = {
    name.lower(): name
    for name in words(
        "getUpdates getMe deleteWebhook setWebhook getWebhookInfo close logOut sendMessage "
        "sendVenue sendLocation sendDocument sendPhoto sendChatAction editMessageText "
        "editMessageCaption editMessageReplyMarkup deleteMessage answerCallbackQuery "
        "answerInlineQuery "
        "setMyCommands getMyCommands deleteMyCommands setChatMenuButton getChatMenuButton "
        "getFile"
    )
}
_INT_KEYS = words(
    "chat_id from_chat_id message_id offset limit reply_to_message_id message_thread_id "
    "user_id cache_time until_date live_period heading proximity_alert_radius max_connections"
)
_FLOAT_KEYS = frozenset({"latitude", "longitude", "timeout", "horizontal_accuracy"})
_BOOL_KEYS = words(
    "disable_notification protect_content show_alert disable_web_page_preview "
    "allow_sending_without_reply drop_pending_updates disable_content_type_detection "
    "has_spoiler show_caption_above_media allow_paid_broadcast is_personal"
)
_JSON_KEYS = words(
    "reply_markup allowed_updates commands scope menu_button entities caption_entities "
    "link_preview_options reply_parameters media results message_ids button"
)
_LANGUAGE_RE = re.compile(r"(?:[a-z]{2})?")

# --------------------------------------------------------------------------- HTML checking

_ALLOWED_TAGS = words("b strong i em u ins s strike del a code pre tg-spoiler span blockquote")
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


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer: its HTTP status, description and ``parameters`` (retry_after...)."""

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


def bad(description: str) -> ApiError:
    """A "Bad Request" (400) answer."""
    return ApiError(400, f"Bad Request: {description}")


def coerce(key: str, value: Any) -> Any:
    """Turn a form value (always a string) into the type Telegram would parse it as."""
    if not isinstance(value, str):
        return value
    if key in _JSON_KEYS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad(f"can't parse {key} JSON object") from None
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError:
            if key == "chat_id":
                return value
            raise bad(f"invalid {key} specified") from None
    if key in _FLOAT_KEYS:
        try:
            return float(value)
        except ValueError:
            raise bad(f"invalid {key} specified") from None
    if key in _BOOL_KEYS:
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise bad(f"invalid {key} specified")
    return value


def now() -> int:
    """A message's date as Telegram gives it (Unix seconds)."""
    return int(time.time())


# --------------------------------------------------------------------------- parameters


def chat_param(params: JSONDict) -> int:
    """The call's chat_id: a number."""
    chat = params.get("chat_id")
    if chat is None or chat == "":
        raise bad("chat_id is empty")
    if not isinstance(chat, int) or isinstance(chat, bool) or chat == 0:
        raise bad("chat not found")
    return chat


def read_parse_mode(params: JSONDict) -> str | None:
    """The call's parse_mode, if any (one Telegram knows)."""
    mode = params.get("parse_mode")
    if mode is None or mode == "":
        return None
    if not isinstance(mode, str) or mode.lower() not in ("html", "markdown", "markdownv2"):
        raise bad(f"unsupported parse_mode {mode!r}")
    return mode


def check_text(text: Any, parse_mode: str | None, *, caption: bool) -> str:
    """A message text or a caption as Telegram takes it: valid HTML when it says HTML, not
    empty (a text), not too long once parsed (counted in UTF-16 units)."""
    if text is None:
        text = ""
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise bad("message text must be a string")
    plain = text
    if parse_mode is not None and parse_mode.lower() == "html":
        error = html_error(text)
        if error is not None:
            raise bad(f"can't parse entities: {error}")
        plain = html_to_plain(text)
    length = len(plain.encode("utf-16-le")) // 2  # as Telegram counts: an emoji is two
    if caption:
        if length > MAX_CAPTION:
            raise bad("message caption is too long")
    else:
        if not plain.strip():
            raise bad("message text is empty")
        if length > MAX_TEXT:
            raise bad("message is too long")
    return text


def check_markup(markup: Any) -> JSONDict | None:
    """A reply_markup as Telegram takes it (an inline keyboard's buttons checked one by one)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    count = 0
    for row in rows:
        for button in row:
            count += 1
            check_button(button)
    if count > MAX_INLINE_BUTTONS:
        raise bad(f"too many inline keyboard buttons ({count} > {MAX_INLINE_BUTTONS})")
    return markup


def check_button(button: Any) -> None:
    """An inline button: a label and one action, its callback data up to 64 bytes, its link
    one Telegram opens, a Mini App's page on https."""
    if not isinstance(button, dict):
        raise bad("can't parse inline keyboard button: button must be an Object")
    text = button.get("text")
    if not isinstance(text, str) or not text:
        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
    if not actions:
        raise bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        ok = parts is not None and (
            parts.scheme == "tg"
            or (parts.scheme in ("http", "https") and "." in (parts.hostname or ""))
        )
        if not ok:
            raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    if "web_app" in button:  # Telegram opens only https pages as Mini Apps
        web_app = button["web_app"]
        url = web_app.get("url") if isinstance(web_app, dict) else None
        if not isinstance(url, str) or urlsplit(url).scheme != "https":
            raise bad("BUTTON_URL_INVALID")


def location(params: JSONDict) -> tuple[float, float]:
    """The call's latitude and longitude, each in range."""
    lat, lon = params.get("latitude"), params.get("longitude")
    if not isinstance(lat, int | float) or not -90 <= lat <= 90:
        raise bad("wrong latitude specified")
    if not isinstance(lon, int | float) or not -180 <= lon <= 180:
        raise bad("wrong longitude specified")
    return float(lat), float(lon)


def scope_key(params: JSONDict) -> tuple[str, str]:
    """Which commands a *MyCommands call is about: its scope (as JSON) and language."""
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad("can't parse BotCommandScope JSON object")
    language = params.get("language_code") or ""
    if not isinstance(language, str) or not _LANGUAGE_RE.fullmatch(language):
        raise bad("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language
