"""The one aiohttp web server: the webhook (when set), /healthz, /readyz and /metrics, and
with a public address the map and the desk (Mini Apps)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

from aiohttp import web

from bot.context import App
from bot.web.desk import DeskPages
from bot.web.desk_activities import DeskActivities
from bot.web.health import Contact, not_ready
from bot.web.map import MapPages
from bot.web.metrics import CONTENT_TYPE
from bot.web.webhook import Webhook

log = logging.getLogger(__name__)
OUTBOX_COUNT_EVERY_S = 15.0  # counting the outbox is a scan: at most this often


class WebServer:
    """Serves one running application on ``listen`` (host, port) or a bound socket."""

    def __init__(
        self,
        app: App,
        contact: Contact,
        *,
        listen: tuple[str, int] | None = None,
        sock: socket.socket | None = None,
        webhook: Webhook | None = None,
        webhook_path: str = "/",
        map_pages: MapPages | None = None,
        desk_pages: DeskPages | None = None,
    ) -> None:
        self.app = app
        self.contact = contact
        self.webhook = webhook
        self.closing = False
        self._listen = listen
        self._sock = sock
        self._counted_at = -OUTBOX_COUNT_EVERY_S
        self._counting = asyncio.Lock()
        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_get("/healthz", self.healthz)
        web_app.router.add_get("/readyz", self.readyz)
        web_app.router.add_get("/metrics", self.metrics)
        if webhook is not None:
            web_app.router.add_post(webhook_path, webhook.handle)
        if map_pages is not None:  # the map Mini App (with SANCTUARY_PUBLIC_URL)
            map_pages.add_routes(web_app.router)
        if desk_pages is not None:  # the coordinators' desk (with SANCTUARY_PUBLIC_URL)
            desk_pages.add_routes(web_app.router)
            DeskActivities(desk_pages).add_routes(web_app.router)
        # No access log: paths and addresses are nothing an operator needs, and stay out.
        # At a stop the webhook has already waited for the updates being handled: a request
        # still running after that is cancelled at once (aiohttp would wait 60 s).
        self._runner = web.AppRunner(
            web_app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        self.port = 0

    async def start(self) -> None:
        """Start listening."""
        await self._runner.setup()
        site: web.BaseSite
        if self._sock is not None:
            site = web.SockSite(self._runner, self._sock)
        else:
            assert self._listen is not None
            site = web.TCPSite(self._runner, self._listen[0], self._listen[1])
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            raise
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        await self._runner.cleanup()

    async def healthz(self, request: web.Request) -> web.Response:
        """200 while the process runs."""
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        """200 when the bot can do its work, else 503 and why, in one line."""
        reason = (
            "shutting down"
            if self.closing
            else await not_ready(self.app.bot_data.services, self.contact)
        )
        if reason is not None:
            return web.Response(status=503, text=f"not ready: {reason}\n")
        return web.Response(text="ready\n")

    async def metrics(self, request: web.Request) -> web.Response:
        """The Prometheus text format."""
        services = self.app.bot_data.services
        if services is None:
            return web.Response(status=503, text="not ready: starting\n")
        async with self._counting:  # one count at a time; a scrape meanwhile waits for it
            if time.monotonic() - self._counted_at >= OUTBOX_COUNT_EVERY_S:
                try:
                    services.metrics.set_outbox(await services.outbox.counts_by_kind())
                    self._counted_at = time.monotonic()
                except Exception as exc:  # the rest of the page is still worth having
                    log.warning("could not count the outbox: %s", type(exc).__name__)
        response = web.Response(body=services.metrics.text())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response
