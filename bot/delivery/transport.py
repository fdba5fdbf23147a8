"""How the bot's requests reach the Bot API: over aiohttp, as JSON bodies.

python-telegram-bot sends through httpx by default, and its stack (httpx, httpcore, anyio)
cost more per call than everything else the bot does for a shared location: in the find
benchmark the bare echo bot answered about 840 updates a second through httpx and about 1,780
through aiohttp, the same handlers on the same server. aiohttp is already a dependency (the
console demo's Bot API stand-in is an aiohttp server), and python-telegram-bot takes any
networking backend through ``BaseRequest``. ``make bench`` measures it again each time
(``transport_gain``: the whole bot on this transport against python-telegram-bot's
``HTTPXRequest``, taking turns; 1.7 to 1.8 times as many shared locations answered a second).

python-telegram-bot also posts every call as URL-encoded form fields (0.10 ms to encode a
results page, emoji and Arabic letters among it, as httpx did it; 0.03 ms as JSON, a third
fewer bytes). The Bot API takes any call but an upload as one ``application/json`` body;
uploads (an .ics file) still go as multipart forms.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from typing import Any

import aiohttp
import certifi
from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import Defaults, ExtBot
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

log = logging.getLogger(__name__)
JSONDict = dict[str, Any]


# Every text the bot writes is Telegram HTML (views escape what they insert); link previews
# cost people data, so none is shown. The application's bot has these as its ``Defaults``; a
# text that is not HTML says ``parse_mode=None``. Replies sent with ``call`` name them.
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)


async def call(bot: Bot, endpoint: str, **parameters: Any) -> None:
    """Call ``endpoint`` through the bot's public ``do_api_request`` (its rate limiter, its
    errors raised as ``telegram.error`` exceptions) without reading Telegram's answer into
    objects.

    A sent or edited message comes back whole: ``send_message`` reads it into a ``Message``
    (for a results page and its ten buttons some 25 objects and 380 attribute writes), which
    no handler here looks at. python-telegram-bot warns that a method it knows has its own
    (``Bot.send_message``); for these calls that is the point, so the warning is not shown.
    Parameters set to ``None`` are left out, as python-telegram-bot leaves them out.
    """
    await bot.do_api_request(endpoint, api_kwargs=parameters)


# do_api_request's advice for known methods, for the calls above (the test run filters it too).
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.\w+' instead of 'Bot\.do_api_request",
    category=PTBUserWarning,
)


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` over one ``aiohttp.ClientSession``: JSON bodies, forms for uploads.

    Time limits as ``HTTPXRequest`` takes them (seconds, ``None`` for none): ``pool`` for
    waiting for one of the ``connection_pool_size`` calls at a time (a call that finds none in
    time is not sent), ``connect`` for opening a connection, ``read`` for each wait for the
    server's bytes (python-telegram-bot adds the long-poll time to it for getUpdates). aiohttp
    has no write limit, so ``write`` (``media_write`` for an upload) bounds the whole call,
    together with ``connect`` and ``read``.
    """

    __slots__ = (
        "_free",
        "_limits",
        "_media_write_timeout",
        "_pool_size",
        "_proxies",
        "_session",
        "on_ok",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._limits = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._free = asyncio.Semaphore(connection_pool_size)
        self._proxies: dict[str, str | None] = {}  # by API base URL
        self.on_ok: Callable[[], None] | None = None  # called on each answer with status 200

    @property
    def read_timeout(self) -> float | None:
        """See ``BaseRequest.read_timeout``."""
        return self._limits[0]

    async def initialize(self) -> None:
        """Open the session (in the running event loop, as aiohttp wants)."""
        if self._session is None or self._session.closed:
            self._free = asyncio.Semaphore(self._pool_size)  # of this event loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=trusted_roots()),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._proxies = {}

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for ``url`` (HTTPS_PROXY, NO_PROXY...), as httpx
        reads it: looked up once per API base, not once per call (aiohttp's ``trust_env``
        looks at the environment and ~/.netrc on every call, which halved the calls a second
        this transport can make)."""
        base = url.rpartition("/")[0]
        if base not in self._proxies:
            parts = urllib.parse.urlsplit(url)
            bypass = urllib.request.proxy_bypass(parts.hostname or "")
            self._proxies[base] = None if bypass else urllib.request.getproxies().get(parts.scheme)
        return self._proxies[base]

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See ``BaseRequest.do_request``."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._limits[0])
        write = _given(write_timeout, self._media_write_timeout if uploads else self._limits[1])
        connect = _given(connect_timeout, self._limits[2])
        pool = _given(pool_timeout, self._limits[3])
        parts = (read, write, connect)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(part for part in parts if part is not None),
            connect=connect,
            sock_read=read,
        )
        body: bytes | aiohttp.FormData | None = None
        headers = None
        if request_data is not None and uploads:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None:
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            headers = JSON_HEADERS
        if self._free.locked():
            try:
                async with asyncio.timeout(pool):
                    await self._free.acquire()
            except TimeoutError as err:
                raise TimedOut("Pool timeout: no free connection in time; not sent.") from err
        else:
            await self._free.acquire()
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                body = await response.read()
                if response.status == 200 and self.on_ok is not None:
                    self.on_ok()
                return response.status, body
        except TimeoutError as err:  # aiohttp's own time-outs are ClientErrors too: first
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            self._free.release()


JSON_HEADERS = {"Content-Type": "application/json"}


@functools.cache
def trusted_roots() -> ssl.SSLContext:
    """TLS checked against certifi's roots, as httpx checks them: a machine without a system
    store (a slim container, a Python from python.org on macOS) still reaches Telegram.

    One context for the process: reading the bundle takes some 16 ms, and every application
    opens two sessions (calls and getUpdates)."""
    return ssl.create_default_context(cafile=certifi.where())


_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # python-telegram-bot's "not given" marker


def _given(value: object, default: float | None) -> float | None:
    """A time limit a call gave, or this transport's own when it gave none."""
    return default if isinstance(value, _DEFAULT) else value  # type: ignore[return-value]


class UpdatesRequest(AiohttpRequest):
    """The getUpdates connection: keeps the updates of the last answer as Telegram sent them,
    so that one python-telegram-bot cannot read can be told apart from the rest."""

    __slots__ = ("last_updates",)

    def __init__(self, **limits: Any) -> None:
        super().__init__(connection_pool_size=1, **limits)
        self.last_updates: list[Any] = []

    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]
        """See ``BaseRequest.parse_json_payload``; also keeps the raw updates."""
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result")
        self.last_updates = result if isinstance(result, list) else []
        return data


class _NoUpdateContent(logging.Filter):
    """python-telegram-bot logs a whole batch of updates, message texts included, when one of
    them cannot be read: TolerantBot says which one instead, without its content."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates!")


class TolerantBot(ExtBot[None]):
    """An ``ExtBot`` that skips an update it cannot read instead of stopping for everyone.

    python-telegram-bot reads a getUpdates answer as one batch: one update it cannot read
    (a poll option without ``persistent_id``, say) fails the whole batch, the offset never
    moves and the same batch fails again at once, forever. Here the batch is read as usual;
    only when that fails is each update read on its own: each that cannot be read is logged
    once (its id and the error, never its content) and passed on empty, so that the updater
    confirms it and nothing handles it; the others are handled as usual.
    """

    def __init__(self, token: str, updates_request: UpdatesRequest, **kwargs: Any) -> None:
        super().__init__(token, get_updates_request=updates_request, **kwargs)
        self._updates_request = updates_request
        for name in ("telegram.Bot", "telegram.ext.ExtBot"):  # the logger each class uses
            logging.getLogger(name).addFilter(_NO_UPDATE_CONTENT)

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """See ``Bot.get_updates``."""
        self._updates_request.last_updates = []  # only this call's answer is read again
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception:  # one or more updates could not be read: read them one by one
            if not self._updates_request.last_updates:
                raise  # no answer of this call to read again: not about an update
        updates: list[Update] = []
        for raw in self._updates_request.last_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                continue  # without an id it can be neither handled nor confirmed
            try:
                update = Update.de_json(raw, self)
            except Exception as exc:
                log.warning(
                    "update %d cannot be read (%s: %s): confirmed and skipped",
                    update_id,
                    type(exc).__name__,
                    exc,
                )
                update = Update(update_id)
            self.insert_callback_data(update)
            updates.append(update)
        return tuple(updates)


_NO_UPDATE_CONTENT = _NoUpdateContent()
