"""The application factory: the one place where the bot is wired together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.config import Config
from bot.context import App, AppContext, BotData, conversing, forget_remembered, remembered
from bot.delivery.outbox import PatientReplies
from bot.delivery.transport import DEFAULTS, AiohttpRequest, TolerantBot, UpdatesRequest
from bot.i18n import LANGUAGES, use_locale
from bot.places.gazetteer import Gazetteer
from bot.services import Services
from bot.views import menus as mv
from bot.web.metrics import UPDATE_KINDS

log = logging.getLogger(__name__)
# The directory reads what changed (one small read when nothing did) this often: several
# instances sharing a database each follow the others' changes within it.
DIRECTORY_REFRESH_S = 1.0
PLAN_EVERY_S = 60.0
# The network's figures for the desk's Overview: a little more often than the desk counts
# them itself (bot.web.desk.NETWORK_EVERY), so a coordinator finds a fresh count kept.
COUNT_EVERY_S = 240.0
RETENTION_EVERY_S = 3600.0  # each step acts only on what is due: hourly keeps daytime asks
WAIT_LIMIT_S = 10.0
RUNNING_AT_ONCE = 32  # updates handled at the same time (different people's)
TAKEN_AT_ONCE = 1024  # updates taken in at once, waiting for their turn or running
DEMO_TOKEN = "123456:demo-token-not-real"
# The updates Telegram sends us, and no others. Not edited messages: a live location's moves
# would each start a new search, and a corrected earlier answer would be read as the answer to
# the question asked now. Inline queries: "@<bot> Leeds" in any chat (handlers.share).
# Nothing else is handled, so nothing else is worth the data.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.INLINE_QUERY,
]


class SanctuaryApplication(
    Application[
        ExtBot[None], AppContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[AppContext]
    ]
):
    """The application, counting the updates it handles by kind (polling and webhook alike)."""

    async def process_update(self, update: object) -> None:
        """Handle the update, with what the person's conversation remembers read before it
        and written after it (``bot.context.remembered``); then count it."""
        services = self.bot_data.services
        user_id = conversing(update) if isinstance(update, Update) else None
        if services is None or user_id is None:
            await super().process_update(update)
        else:
            async with remembered(services, user_id):
                await super().process_update(update)
        if services is not None and isinstance(update, Update):
            kind = next((k for k in UPDATE_KINDS if getattr(update, k) is not None), "other")
            services.metrics.update(kind)


class TrackingUpdateProcessor(BaseUpdateProcessor):
    """Processes one update at a time and lets a driver wait until a given one is handled.

    The console demo and the end-to-end tests use it to know when the bot has answered.
    """

    def __init__(self) -> None:
        super().__init__(max_concurrent_updates=1)
        self.last_processed = 0
        self._changed = asyncio.Condition()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers, then record it as processed."""
        try:
            await coroutine
        finally:
            if isinstance(update, Update):
                async with self._changed:
                    self.last_processed = max(self.last_processed, update.update_id)
                    self._changed.notify_all()

    async def wait_processed(self, update_id: int, limit_s: float = WAIT_LIMIT_S) -> None:
        """Return once the update ``update_id`` has been handled; TimeoutError after limit_s."""
        async with asyncio.timeout(limit_s), self._changed:
            await self._changed.wait_for(lambda: self.last_processed >= update_id)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class InTurnProcessor(BaseUpdateProcessor):
    """Handles different people's updates at the same time and each person's in turn.

    Up to ``running`` updates are handled at once. An update waits until every earlier update
    of the same chat or from the same person has been handled: the state a journey keeps for
    a person (its session, a question waiting for a typed answer, a draft) is only ever
    changed by one of their updates at a time, in the order they came. Someone waiting for a
    slow reply (a 429, a slow network) holds up nobody else. Updates waiting their turn hold
    no slot; python-telegram-bot's own bound (``taken``) is only how many may wait at all.
    """

    def __init__(self, running: int = RUNNING_AT_ONCE, taken: int = TAKEN_AT_ONCE) -> None:
        super().__init__(max_concurrent_updates=taken)
        self._slots = asyncio.Semaphore(running)
        # chat or person -> the last update of theirs taken (done once it and those before it
        # have been handled): the next one waits for it.
        self._last: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this chat's and this person's earlier updates, then for a slot, then run
        the update's handlers."""
        # Nothing is awaited before the turns are taken: they are taken in arrival order.
        keys = _turn_keys(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before = [last for key in keys if (last := self._last.get(key)) is not None]
        for key in keys:
            self._last[key] = done
        try:
            if before:
                await asyncio.wait(before)  # never cancels them, as awaiting them would
            async with self._slots:
                await coroutine
        finally:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # not run (cancelled while waiting): no "never awaited"
            # Cancelled while waiting: the next ones still wait for those before this one.
            waiting = [last for last in before if not last.done()]
            for last in waiting:
                last.add_done_callback(lambda _: self._finish(keys, done, waiting))
            self._finish(keys, done, waiting)

    def _finish(
        self, keys: tuple[int, ...], done: asyncio.Future[None], waiting: list[Any]
    ) -> None:
        """``done`` once none of ``waiting`` is still running."""
        if done.done() or not all(last.done() for last in waiting):
            return
        done.set_result(None)
        for key in keys:
            if self._last.get(key) is done:
                del self._last[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _turn_keys(update: object) -> tuple[int, ...]:
    """Whose turn an update waits for: its chat's and its sender's (one key in a private
    chat, whose id is the person's; an inline query has only a sender)."""
    if not isinstance(update, Update):
        return ()
    chat, user = update.effective_chat, update.effective_user
    keys = {key.id for key in (chat, user) if key is not None}
    return tuple(keys)


async def _refresh_directory(context: AppContext) -> None:
    """Read the activities and groups changed since the last look (imports, other processes,
    other instances); let go of the people others changed (their language...)."""
    if await context.services.directory.refresh():
        log.info("directory updated")
    await context.services.users.follow()


async def _plan_reminders(context: AppContext) -> None:
    """Turn due reminders into outbox rows and wake the sender (never sends itself); on the
    instance holding the jobs lease only."""
    if context.services.runs_jobs() and await context.services.plan_reminders():
        log.info("reminders planned")


async def _retention(context: AppContext) -> None:
    """Ask the long-silent whether to stay; delete those who never answered; purge old rows
    (on the instance holding the jobs lease only)."""
    if not context.services.runs_jobs():
        return
    report = await context.services.run_retention()
    for user_id in report.forgotten:
        context.application.drop_user_data(user_id)


async def _count_figures(context: AppContext) -> None:
    """Count the network's figures and keep them (on the instance holding the jobs lease)."""
    if context.services.runs_jobs():
        await context.services.network_figures()


async def set_commands(app: App) -> None:
    """The command menu in every language (setMyCommands with language_code)."""
    for lang in LANGUAGES:
        # Telegram takes two-letter ISO 639-1 codes only: Dari (fa_AF) and Sorani (ckb) get
        # their menu per chat, when someone chooses them (handlers.start).
        if lang.code != "en" and len(lang.code) != 2:
            continue
        with use_locale(lang.code):
            commands = [BotCommand(name, text) for name, text in mv.commands()]
        code = None if lang.code == "en" else lang.code
        await app.bot.set_my_commands(commands, language_code=code)


@asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Run an application inside the current event loop (console demo, tests, benchmarks).

    Does what run_polling does, post_init and post_shutdown included, without owning the loop.
    """
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
            if app.post_shutdown is not None:
                await app.post_shutdown(app)


def quiet_libraries() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs carry the token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


def build_app(
    config: Config,
    *,
    services: Services | None = None,
    gazetteer: Gazetteer | None = None,
    processor: BaseUpdateProcessor | None = None,
    webhook: bool | None = None,
) -> App:
    """Build the application; services are created in post_init and closed in post_shutdown.

    With ``webhook`` (default: when the configuration has a webhook URL) there is no updater:
    Telegram posts updates to ``bot.web``, which hands them to the application."""
    from handlers import (
        activities,
        admin,
        alerts,
        base,
        campaigns,
        desk,
        feedback,
        find,
        groups,
        manage,
        places,
        privacy,
        questions,
        reminders,
        safeguarding,
        share,
        start,
        translating,
    )

    quiet_libraries()

    async def post_init(app: App) -> None:
        app.bot_data.services = started = services or await Services.create(config, gazetteer)
        # what memory holds about a person, let go of when they are forgotten
        started.forget_in_memory = [
            app.drop_user_data,
            forget_remembered,
            *app.bot_data.forget_in_memory,
        ]
        await started.start_sender(app.bot)
        if isinstance(app.bot.rate_limiter, PatientReplies):
            app.bot.rate_limiter.metrics = started.metrics
            app.bot.rate_limiter.budget = started.budget  # replies share the outbox's limits
        await set_commands(app)
        if app.job_queue is not None:
            app.job_queue.run_repeating(
                _refresh_directory, interval=DIRECTORY_REFRESH_S, first=DIRECTORY_REFRESH_S
            )
            app.job_queue.run_repeating(_plan_reminders, interval=PLAN_EVERY_S, first=5)
            app.job_queue.run_repeating(_retention, interval=RETENTION_EVERY_S, first=120)
            app.job_queue.run_repeating(_count_figures, interval=COUNT_EVERY_S, first=COUNT_EVERY_S)

    async def post_stop(app: App) -> None:
        if app.bot_data.services is not None:
            await app.bot_data.services.stop_sender()

    async def post_shutdown(app: App) -> None:
        if app.bot_data.services is not None and services is None:
            await app.bot_data.services.close()
        app.bot_data.services = None

    polls = UpdatesRequest()
    bot = TolerantBot(  # skips an update it cannot read instead of stopping for everyone
        config.token or DEMO_TOKEN,
        polls,
        base_url=config.api_url,
        base_file_url=config.file_url,
        # Calls over aiohttp, as JSON bodies: half the cost per call of httpx and forms.
        request=AiohttpRequest(),
        rate_limiter=PatientReplies(),  # a reply meeting a short 429 waits and goes again
        defaults=DEFAULTS,
    )
    builder = (
        ApplicationBuilder()
        .application_class(SanctuaryApplication)
        .bot(bot)
        .context_types(ContextTypes(context=AppContext, bot_data=BotData))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    builder = builder.concurrent_updates(processor or InTurnProcessor())
    if webhook if webhook is not None else config.webhook_url is not None:
        builder = builder.updater(None)
    app: App = builder.build()  # type: ignore[assignment]
    polls.on_ok = app.bot_data.contact.touch  # a poll answered: Telegram is heard from

    # Order matters. Group -1: the locale middleware sees every update first.
    base.register(app)
    questions.register(app)  # group 1: after the journey, actions give up other questions
    # Group 0, first match wins: commands and buttons of each journey (each button code of
    # bot/callbacks.py matches only its own data, so buttons do not depend on this order)...
    start.register(app)
    admin.register(app)
    desk.register(app)  # /desk: the coordinators' desk, a Mini App
    reminders.register(app)
    safeguarding.register(app)  # its typed words only after a report
    share.register(app)  # the Share button, and inline mode
    # Before places, which reads every other location as a place: a pin for "where is it?".
    translating.register(app)  # before posting: /back and /cancel of people translating now
    posting = activities.register(app)  # answers (text, pins) only while someone is posting
    find.register(app)
    groups.register(app)
    privacy.register(app)
    alerts.register(app)
    campaigns.register(app)  # its typed answers only for a coordinator being asked something
    manage.register(app, posting)  # typed reasons only from a moderator just asked for one
    feedback.register(app)  # typed words only just after a feedback answer
    # ...then the catch-alls: any other private location or text is a place (for find,
    # groups or "I've moved", whichever asked); stale buttons; the rest.
    places.register(app)
    app.add_handler(base.expired_callback_handler())
    # Service messages (a pin, an auto-delete timer set by the person) are not said to us.
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, base.not_understood)
    )
    return app


__all__ = ["ALLOWED_UPDATES", "Application", "TrackingUpdateProcessor", "build_app"]
