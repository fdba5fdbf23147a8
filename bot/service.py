"""The bot as a service: polling or a webhook, the web server, signals, a graceful stop.

``sanctuary-bot run`` with a token comes here. Without SANCTUARY_WEBHOOK_URL the bot deletes
any webhook and long-polls; with it, it registers the webhook (with its secret and the
updates it wants) and Telegram posts updates to the web server. The web server also answers
/healthz, /readyz and /metrics (on SANCTUARY_LISTEN, unless that is ``off``).

SIGTERM or SIGINT stops taking updates (polling stops; the webhook answers 503, so Telegram
keeps them and posts them again), lets the updates being handled finish (at most
``STOP_LIMIT_S``), lets the outbox sender finish or put back its message in flight, closes
the database and returns 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.app import ALLOWED_UPDATES, build_app
from bot.config import Config, ConfigError
from bot.context import App, AppContext
from bot.web.desk import DeskPages
from bot.web.map import MapPages
from bot.web.server import WebServer
from bot.web.webhook import Webhook
from storage.updates import HandledUpdates

log = logging.getLogger(__name__)
STOP_LIMIT_S = 10.0  # how long updates being handled may take to finish at a stop
POLL_TIMEOUT_S = 10  # long-poll wait; a poll answered within it counts as Telegram heard from
WEBHOOK_CHECK_S = 60.0


@dataclass
class Running:
    """A running bot: its application, and its web server and webhook when it has them."""

    app: App
    server: WebServer | None
    webhook: Webhook | None


async def _check_webhook(context: AppContext) -> None:
    """Telegram answers about our webhook: it is heard from even when nobody writes."""
    info = await context.bot.get_webhook_info()
    if info.url:
        context.application.bot_data.contact.touch()
    if info.last_error_message:
        log.warning("Telegram says about the webhook: %s", info.last_error_message)


@asynccontextmanager
async def serving(
    app: App,
    config: Config,
    *,
    sock: socket.socket | None = None,
    poll_timeout: int = POLL_TIMEOUT_S,
) -> AsyncIterator[Running]:
    """Start ``app`` (services, polling or webhook, web server) and, on leaving, stop it
    gracefully. ``sock``: an already bound socket for the web server instead of
    ``config.listen`` (tests)."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app)  # initialize; shutdown last
        if app.post_init is not None:
            await app.post_init(app)
        if app.post_shutdown is not None:
            stack.push_async_callback(app.post_shutdown, app)  # closes the database
        services = app.bot_data.services
        assert services is not None
        services.metrics.start()
        stack.push_async_callback(services.metrics.stop)
        await app.start()
        webhook = None
        if config.webhook_url is not None:
            assert config.webhook_secret is not None
            webhook = Webhook(
                app,
                config.webhook_secret,
                HandledUpdates(services.db),
                app.bot_data.contact,
                services.now,
            )
            await webhook.load()
        server = None
        if sock is not None or config.listen is not None:
            path = urlsplit(config.webhook_url or "").path or "/"
            server = WebServer(
                app,
                app.bot_data.contact,
                listen=config.listen,
                sock=sock,
                webhook=webhook,
                webhook_path=path,
                map_pages=MapPages(app, config.tile_url) if config.public_url else None,
                desk_pages=DeskPages(app) if config.public_url else None,
            )
            try:
                await server.start()
            except OSError as exc:
                await _stop(app, None, None)
                host, port = config.listen or ("?", 0)
                raise ConfigError(
                    f"SANCTUARY_LISTEN: cannot listen on {host}:{port}: {exc.strerror or exc}"
                ) from None
            log.info("web server on port %d", server.port)
        try:
            if webhook is not None:
                assert config.webhook_url is not None
                await app.bot.set_webhook(
                    config.webhook_url,
                    secret_token=config.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                app.bot_data.contact.touch()
                if app.job_queue is not None:
                    app.job_queue.run_repeating(
                        _check_webhook, interval=WEBHOOK_CHECK_S, first=WEBHOOK_CHECK_S
                    )
                log.info("webhook set; Telegram posts updates to it")
            else:
                assert app.updater is not None  # deletes any webhook, then long-polls
                await app.updater.start_polling(
                    poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
                app.bot_data.contact.touch()  # deleteWebhook was answered
                log.info("polling %s", config.api_url.split("//", 1)[-1].split("/", 1)[0])
        except BaseException:
            await _stop(app, server, webhook)
            raise
        try:
            yield Running(app, server, webhook)
        finally:
            await _stop(app, server, webhook)


async def _stop(app: App, server: WebServer | None, webhook: Webhook | None) -> None:
    """Stop taking updates, let those being handled finish (at most STOP_LIMIT_S), stop the
    sender (its message in flight finishes or goes back to the outbox), close the server."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_LIMIT_S
    if server is not None:
        server.closing = True  # /readyz: 503 from now on
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if webhook is not None and not await webhook.drain(STOP_LIMIT_S):
        log.warning("updates still being handled after %.0f s: stopping anyway", STOP_LIMIT_S)
    if app.running:
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                await app.stop()
        except TimeoutError:
            log.warning("updates still being handled after %.0f s: stopping anyway", STOP_LIMIT_S)
    if app.post_stop is not None:
        await app.post_stop(app)  # the outbox sender
    if server is not None:
        await server.stop()


async def run(config: Config) -> int:
    """Run until SIGTERM or SIGINT, then stop gracefully; returns the exit code."""
    app = build_app(config)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _on_signal, loop, stopping, signum)
    async with serving(app, config):
        await stopping.wait()
    log.info("stopped")
    return 0


def _on_signal(loop: asyncio.AbstractEventLoop, stopping: asyncio.Event, signum: int) -> None:
    """The first signal stops gracefully; a second one (the handlers are removed) at once."""
    log.info("%s: stopping", signal.Signals(signum).name)
    for other in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(other)
    stopping.set()
