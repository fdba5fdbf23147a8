"""The fake Bot API's HTTP server: routing each call to its method, recording it, getUpdates
and the webhook.

:class:`FakeBotAPI` is the server a test starts (``async with FakeBotAPI() as server``); what
it keeps and checks comes from its parts: :class:`~tests.fakeapi.chats.Chats` (the chats and
the methods that change them), :class:`~tests.fakeapi.faults.Faults` (injected errors,
time-outs, held calls, blocked chats) and :class:`~tests.fakeapi.limits.FloodLimits`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakeapi.chats import Chats, UploadedFile
from tests.fakeapi.faults import Faults
from tests.fakeapi.limits import FloodLimits
from tests.fakeapi.people import FakeUser
from tests.fakeapi.rules import CANONICAL, ApiError, bad, coerce, now, words

JSONDict = dict[str, Any]
HOST = "127.0.0.1"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_KEEP_SECRET = object()  # post_to_webhook: the secret given to setWebhook
_DEFAULT_UPDATE_TYPES = words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request chat_boost "
    "removed_chat_boost"
)

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
class _Webhook:
    url: str
    secret: str | None
    max_connections: int
    queue: asyncio.Queue[JSONDict] = field(default_factory=asyncio.Queue)
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    last_error: str = ""
    last_error_date: int = 0


def _update_type(update: JSONDict) -> str:
    return next((k for k in update if k != "update_id"), "")


def _short(params: JSONDict) -> str:
    shown = {
        k: (f"<file {v.filename} {len(v.content)}B>" if isinstance(v, UploadedFile) else v)
        for k, v in params.items()
    }
    text = repr(shown)
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------- server


class FakeBotAPI(Chats, Faults, FloodLimits):
    """The fake Bot API server; see the package's docstring.

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
        Chats.__init__(self, username, first_name)
        Faults.__init__(self)
        FloodLimits.__init__(self)
        self.timeout_hold = timeout_hold
        self.poll_timeout_cap: float | None = None
        self.round_trip_s = 0.0  # each call but getUpdates is answered this much later
        self.in_flight_peak = 0  # the most calls (but getUpdates) being answered at once
        self._in_flight = 0
        self.calls: list[ApiCall] = []
        self.updates: list[JSONDict] = []
        self.dropped_updates: dict[int, str] = {}
        self.webhook_posts: list[WebhookPost] = []
        self.webhook_retry_s = 0.1  # Telegram waits longer before posting an update again
        self._hook: _Webhook | None = None
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
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._m_get_me,
            "deletewebhook": self._m_delete_webhook,
            "setwebhook": self._m_set_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            **self._methods(),
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

    # ------------------------------------------------------------------ users and updates

    def user(
        self, user_id: int, first_name: str = "Amal", language_code: str | None = "en"
    ) -> FakeUser:
        """A user with a private chat whose id is ``user_id``."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        self._names[user_id] = first_name
        return FakeUser(self, user_id, first_name, language_code)

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
            hook.last_error_date = now()
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

    # ------------------------------------------------------------------ inspection

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
                    raise bad("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad("request body must be a JSON object")
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
        params = {key: coerce(key, value) for key, value in raw.items()}
        used: set[str] = set()
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name not in files:
                    raise bad(f"file {value} not found in the request")
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
        method = CANONICAL.get(key, raw_method)
        params: JSONDict = {}
        chat_id: int | None = None
        gate = self._take_gate(key)
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
                return web.json_response(ApiError(504, "Gateway Timeout").body(), status=504)
            if fault is not None:
                raise fault.error(chat_id)
            self._check_blocked(key, chat_id)
            self._check_limits(key, chat_id)
            if key == "getupdates":
                result: Any = await self._get_updates(params)
            else:
                handler = self._handlers.get(key)
                result = handler(params) if handler is not None else True
        except ApiError as err:
            self._record(method, params, chat_id, err.status, err.body(), request)
            return web.json_response(err.body(), status=err.status)
        except Exception as exc:  # a bug here or input we do not model: answer like a 500
            error = ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
            self._record(method, params, chat_id, error.status, error.body(), request)
            return web.json_response(error.body(), status=error.status)
        self._record(method, params, chat_id, 200, result, request)
        return web.json_response({"ok": True, "result": result})

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
            raise ApiError(
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
                raise ApiError(
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
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_RE.fullmatch(secret)):
            raise bad("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        connections = params.get("max_connections", 40)
        connections = connections if isinstance(connections, int) else 40
        if not 1 <= connections <= 100:
            raise bad("bad webhook: max_connections must be from 1 to 100")
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
