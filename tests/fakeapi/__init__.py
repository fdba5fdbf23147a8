"""A fake Telegram Bot API over HTTP on 127.0.0.1, for the end-to-end tests and the benchmarks
(bench/ imports it from the repository's root). It is not part of the installed package: the
console demo has a small stand-in of its own (bot/cli/console_api.py).

Point a python-telegram-bot ``Application`` at it with
``ApplicationBuilder().base_url(server.base_url).base_file_url(server.base_file_url)``.
The server answers like Telegram (``{"ok": true, "result": ...}`` or an error object with the
matching HTTP status), validates what tests care about (text length, HTML markup, callback data,
inline keyboards, edits), records every call in ``server.calls`` and can inject faults.

Users are simulated with :meth:`FakeBotAPI.user`; :class:`Conversation` drives one of them one
update at a time. After ``setWebhook`` the server posts updates to the bot's URL as Telegram
does (the secret in ``X-Telegram-Bot-Api-Secret-Token``, again after any answer but 2xx) and
answers getUpdates with 409; ``post_to_webhook`` posts one update with any header. Everything
runs on one asyncio event loop; ``queue_update`` (and so the ``FakeUser`` methods) may also be
called from another thread.

The modules, by concern:
  server   the HTTP server and routing: each call read, answered and recorded; getUpdates and
           the webhook
  chats    the chats as Telegram keeps them (the bot's messages, files, pending queries,
           commands) and the methods that change them
  people   the people: FakeUser makes their updates, Conversation drives one of them
  rules    what Telegram accepts: parameters, HTML, lengths, keyboards
  faults   injected errors and time-outs, held calls, blocked chats
  limits   flood limits, counted
  witness  the limits counted in a process of its own that every call passes through, timed as
           it arrives (for tests where the fake's own process is too busy to time them)
"""

from tests.fakeapi.chats import BOT_ID, SentMessage, UploadedFile
from tests.fakeapi.faults import FAULT_KINDS, INFRASTRUCTURE_METHODS, Gate
from tests.fakeapi.people import Conversation, FakeUser
from tests.fakeapi.rules import MAX_TEXT, html_error, html_to_plain
from tests.fakeapi.server import ApiCall, FakeBotAPI, WebhookPost

__all__ = [
    "BOT_ID",
    "FAULT_KINDS",
    "INFRASTRUCTURE_METHODS",
    "MAX_TEXT",
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
