"""Logging for an operator: plain text lines (the default) or one JSON object a line.

``SANCTUARY_LOG_FORMAT=json`` writes ``{"time", "level", "logger", "message"}`` and, for what is
logged while an update is handled, ``"update_kind"`` (message, callback_query,
my_chat_member), plus ``"exception"`` when there is a traceback. Either format carries only
what the code logs: no message text, place names, coordinates or tokens (tests/test_logs.py).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, TextIO

from telegram import Update

FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The kind of update being handled in this task (set by the locale middleware).
_update_kind: ContextVar[str | None] = ContextVar("sanctuary_update_kind", default=None)


def update_kind(update: object) -> str | None:
    """The kind of a Telegram update: the name of its one field that is set."""
    if not isinstance(update, Update):
        return None
    return next((str(kind) for kind in Update.ALL_TYPES if getattr(update, kind, None)), None)


def set_update_kind(update: object) -> None:
    """Name the update being handled in what this task logs from now on."""
    _update_kind.set(update_kind(update))


class UpdateKindFilter(logging.Filter):
    """Adds ``update_kind`` to every record (None outside an update)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "update_kind"):
            record.update_kind = _update_kind.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        kind = getattr(record, "update_kind", None)
        if kind:
            entry["update_kind"] = kind
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def make_handler(fmt: str, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (standard error by default) writing ``fmt`` ('text' or 'json')."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(UpdateKindFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Send the root logger's records to standard error in ``fmt`` (as logging.basicConfig:
    nothing changes when the root logger already has handlers, e.g. under pytest)."""
    logging.basicConfig(level=level, handlers=[make_handler(fmt)])
