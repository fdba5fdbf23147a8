"""The services the handlers use, created in post_init and closed in post_shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot

from bot.config import Config, ConfigError
from bot.delivery.budget import SendBudget, budget_for, sender_limits
from bot.delivery.outbox import Sender
from bot.delivery.reminders import (
    ReminderPlanner,
    WeeklyPlanner,
    digest_planner,
    weekly_post_planner,
)
from bot.domain.campaigns import CampaignDesk
from bot.domain.organiser import Organiser
from bot.domain.retention import Retention, RetentionReport
from bot.domain.safeguarding import Concerns
from bot.leases import JOBS, RENEW_S, SENDER, Lease
from bot.places.gazetteer import Gazetteer, Locator
from bot.places.postcodes import Outcodes
from bot.search.directory import Directory
from bot.web.metrics import Metrics
from storage.activities import ActivityRepository
from storage.alerts import AlertRepository
from storage.awaited import AwaitedRepository
from storage.campaigns import CampaignRepository
from storage.db import Database, utcnow
from storage.drafts import DraftRepository
from storage.feedback import FeedbackRepository
from storage.group_chats import GroupChatRepository
from storage.groups import GroupRepository
from storage.leases import LeaseRepository
from storage.outbox import OutboxRepository
from storage.personal import PersonalDataRepository
from storage.reminders import ReminderRepository
from storage.roles import RoleRepository
from storage.safeguarding import SafeguardingRepository
from storage.sessions import SessionRepository
from storage.stats import Figure, StatsRepository
from storage.translations import TranslationRepository
from storage.users import UserRepository

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(seconds=RENEW_S)


def load_outcodes(config: Config) -> Outcodes | None:
    """The postcode districts named by SANCTUARY_OUTCODES; a bad file is a ConfigError."""
    if config.outcodes_path is None:
        return None
    try:
        return Outcodes.from_csv(config.outcodes_path)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"SANCTUARY_OUTCODES: {exc}") from None


@dataclass(slots=True)
class Services:
    """Everything a handler may reach, typed."""

    config: Config
    db: Database
    users: UserRepository
    groups: GroupRepository
    activities: ActivityRepository
    directory: Directory
    locator: Locator
    outbox: OutboxRepository
    reminders: ReminderRepository
    personal: PersonalDataRepository
    roles: RoleRepository
    group_chats: GroupChatRepository
    alerts: AlertRepository
    campaigns: CampaignRepository
    safeguarding: SafeguardingRepository
    drafts: DraftRepository
    feedback: FeedbackRepository
    awaited: AwaitedRepository
    sessions: SessionRepository
    leases: LeaseRepository
    clock: Callable[[], datetime] = utcnow
    button_key: bytes = b""  # signs buttons made for one person (see ``Concerns.mark``)
    metrics: Metrics = field(default_factory=Metrics)
    sender: Sender | None = None  # every instance has one; it sends while holding its lease
    _sender_task: asyncio.Task[None] | None = None
    _bot: Bot | None = None
    sender_lease: Lease | None = None
    jobs_lease: Lease | None = None
    _lease_task: asyncio.Task[None] | None = None
    _status_seen: datetime | None = None  # chat statuses read up to then (other instances')
    _planner: ReminderPlanner | None = None
    _weekly: list[WeeklyPlanner] = field(default_factory=list)
    _counting: asyncio.Lock = field(default_factory=asyncio.Lock)  # one count of figures at a time
    # what others hold in memory about a person, each let go of when the person is forgotten
    forget_in_memory: list[Callable[[int], object]] = field(default_factory=list)

    desk: CampaignDesk = field(init=False)
    organiser: Organiser = field(init=False)
    concerns: Concerns = field(init=False)
    translations: TranslationRepository = field(init=False)
    # Telegram's limits for replies and the outbox together (bot.delivery.budget): in this
    # process on SQLite (the sender's limiter), through the database on PostgreSQL.
    budget: SendBudget = field(init=False)

    def __post_init__(self) -> None:
        self.users.clock = self.now  # rows carry the service clock's time (tests move it)
        self.budget = budget_for(self.db, self.config.send_rate, self.config.chat_gap_s)
        self.db.observe = self.metrics.db_seconds.observe
        self.translations = TranslationRepository(self.db)
        self.desk = CampaignDesk(
            self.campaigns,
            self.alerts,
            self.roles,
            self.locator.gazetteer.region_at,
            self.now,
            self._wake,
        )
        self.organiser = Organiser(
            self.activities,
            self.drafts,
            self.roles,
            self.reminders,
            self.outbox,
            self.feedback,
            self.directory,
            self.now,
            self._wake,
            self.translations,
        )
        self.concerns = Concerns(
            self.safeguarding,
            self.activities,
            self.roles,
            self.outbox,
            self.directory,
            self.now,
            self._wake,
            self.button_key,
        )

    def _wake(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    @classmethod
    async def create(
        cls,
        config: Config,
        gazetteer: Gazetteer | None = None,
        outcodes: Outcodes | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> Services:
        """Open the database, load places and the directory (``clock``: the service clock,
        from the start: the directory leaves out what is over by the time it loads)."""
        db = await Database.open(config.database)
        try:
            return await cls._create(config, db, gazetteer, outcodes, clock)
        except BaseException:
            await db.close()  # its thread would keep the process alive
            raise

    @classmethod
    async def _create(
        cls,
        config: Config,
        db: Database,
        gazetteer: Gazetteer | None,
        outcodes: Outcodes | None,
        clock: Callable[[], datetime],
    ) -> Services:
        if outcodes is None:
            outcodes = load_outcodes(config)
        gazetteer = gazetteer or Gazetteer.load(config.cache_dir)
        activities = ActivityRepository(db)
        groups = GroupRepository(db)
        directory = Directory(activities, groups, clock)
        await directory.refresh(force=True)
        safeguarding = SafeguardingRepository(db)
        users = UserRepository(db)
        await users.follow()  # from now on, what other instances change is let go of
        return cls(
            config=config,
            clock=clock,
            db=db,
            users=users,
            groups=groups,
            activities=activities,
            directory=directory,
            locator=Locator(gazetteer, outcodes),
            outbox=OutboxRepository(db),
            reminders=ReminderRepository(db),
            personal=PersonalDataRepository(db),
            roles=RoleRepository(db),
            group_chats=GroupChatRepository(db),
            alerts=AlertRepository(db),
            campaigns=CampaignRepository(db),
            safeguarding=safeguarding,
            drafts=DraftRepository(db),
            feedback=FeedbackRepository(db),
            awaited=AwaitedRepository(db),
            sessions=SessionRepository(db),
            leases=LeaseRepository(db),
            button_key=await safeguarding.secret("buttons"),
        )

    async def start_sender(self, bot: Bot) -> None:
        """Take part in the work done once for all instances: send the outbox while holding
        the sender lease, run the scheduled jobs while holding the jobs lease (bot.leases).
        Both are tried now, so an instance alone sends at once, then every ``RENEW_S``."""
        self._bot = bot
        self.sender = self._new_sender(bot)
        self.sender.unreachable = await self.outbox.unreachable_chats()
        self._status_seen = self.now()
        holder = self.config.instance
        self.sender_lease = Lease(
            self.leases, SENDER, holder, self.now, self._start_sending, self._stop_sending
        )
        self.jobs_lease = Lease(self.leases, JOBS, holder, self.now, self._take_jobs)
        await self.keep_leases()
        self._lease_task = asyncio.create_task(self._keep_leases(), name="leases")

    def _new_sender(self, bot: Bot) -> Sender:
        from bot.delivery.renderers import build_renderers

        renderers = build_renderers(
            self.directory, self.now, self.users, self.config, self.campaigns, self.translations
        )
        limiter, shared = sender_limits(self.budget)
        return Sender(
            bot,
            self.outbox,
            self.users,
            renderers,
            limiter,
            now=self.now,
            metrics=self.metrics,
            budget=shared,
        )

    async def _start_sending(self) -> None:
        """The sender lease is ours: recover the rows a crash left in flight (here or on the
        instance that held it), then send."""
        assert self._bot is not None
        self.sender = self._new_sender(self._bot)  # a new one each time: it may have stopped
        await self.sender.start()
        self._sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")

    async def _stop_sending(self) -> None:
        """The sender lease is lost or given up: let the messages in flight finish."""
        if self.sender is not None and self._sender_task is not None:
            self.sender.stop()
            await self._sender_task
            self._sender_task = None

    async def _take_jobs(self) -> None:
        """The jobs lease is ours: the planner looks at everything once, as at a start (the
        instance that ran the jobs before may have changed anything)."""
        if self._planner is not None:
            self._planner.reset()

    def runs_jobs(self) -> bool:
        """Whether this instance runs the scheduled jobs now (it holds the jobs lease)."""
        return self.jobs_lease is not None and self.jobs_lease.held

    async def keep_leases(self) -> None:
        """Renew or take the leases; follow the chats other instances found (un)reachable."""
        for lease in (self.sender_lease, self.jobs_lease):
            if lease is not None:
                await lease.renew()
        if self.sender is not None and self._status_seen is not None:
            now = self.now()
            # a little overlap: another instance's clock may be a little behind
            for chat_id, unreachable in (
                await self.outbox.chat_status_since(self._status_seen - 2 * LOOK_BACK)
            ).items():
                if unreachable:
                    self.sender.unreachable.add(chat_id)
                else:
                    self.sender.unreachable.discard(chat_id)
            self._status_seen = now

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(RENEW_S)
            try:
                await self.keep_leases()
            except Exception:
                log.exception("keeping the leases failed")

    def sender_alive(self) -> bool:
        """True while the outbox is being sent: by this instance's sender while it holds the
        sender lease, else by whichever instance holds it (or takes it next)."""
        if self._lease_task is None or self._lease_task.done():
            return False
        if self.sender_lease is not None and self.sender_lease.held:
            return self._sender_task is not None and not self._sender_task.done()
        return True

    def reminder_asked(self, activity_id: int) -> None:
        """Someone asked reminders of an activity: the planner looks at it on its next run."""
        if self._planner is not None:
            self._planner.subscribed(activity_id)

    async def plan_reminders(self) -> int:
        """Put due reminders, digests and scheduled calls in the outbox and wake the sender;
        mark finished calls sent. Returns rows added."""
        if self._planner is None:
            self._planner = ReminderPlanner(self.reminders, self.outbox, self.directory, self.now)
            tz = self.config.timezone
            self._weekly = [
                digest_planner(self.users, self.outbox, self.now, tz),
                weekly_post_planner(self.group_chats, self.outbox, self.now, tz),
            ]
        added = await self._planner.plan()
        for planner in self._weekly:
            added += await planner.plan()
        added += await self.desk.launch_due()
        await self.desk.finish()
        if added and self.sender is not None:
            self.sender.wake()
        return added

    async def forget(self, user_id: int) -> dict[str, int]:
        """Delete everything about a person (/forget, retention) and drop what memory holds."""
        done = await self.personal.erase(user_id)
        self.users.evict(user_id)
        if self.sender is not None:
            self.sender.unreachable.discard(user_id)
        if self._planner is not None:
            self._planner.forget(user_id)
        for forget_held in self.forget_in_memory:
            forget_held(user_id)
        return done

    async def run_retention(self) -> RetentionReport:
        """Ask the long-silent whether to stay, delete those who never answered, purge."""
        retention = Retention(
            self.users,
            self.personal,
            self.outbox,
            self.forget,
            self.now,
            self.config.timezone,
            self.campaigns,
            self.safeguarding,
            self.feedback,
            self.drafts,
            self.awaited,
            self.sessions,
        )
        report = await retention.run()
        if retention.daytime(self.now()):  # questions are not sent at night
            await self.organiser.keep_fresh()
            await self.organiser.ask_feedback()
        if report.asked and self.sender is not None:
            self.sender.wake()
        return report

    async def network_figures(
        self, fresh: timedelta = timedelta(0)
    ) -> tuple[datetime, list[Figure]]:
        """The network's figures (`sanctuary-bot stats`) and when they were counted: the count
        kept in the database when younger than ``fresh``, else counted now and kept. At national
        scale a count reads millions of index entries for seconds, so it runs on a connection of
        its own (in WAL mode, and on PostgreSQL, a reader holds up nobody: the bot's connection
        goes on answering); the jobs count every COUNT_EVERY (bot.app), so a coordinator finds
        a count kept and waits milliseconds."""
        async with self._counting:
            stats = StatsRepository(self.db)
            kept = await stats.kept()
            now = self.now()
            if kept is not None and now - kept[0] < fresh:
                return kept
            reader = await Database.open(self.db.path, migrate=False)
            try:
                figures = await StatsRepository(reader).figures(now)
            finally:
                await reader.close()
            await stats.keep(now, figures)
            return now, figures

    async def stop_sender(self) -> None:
        """Let the messages in flight finish, then stop sending and running jobs here; the
        leases are given up, so another instance takes them over at once."""
        if self._lease_task is not None:
            self._lease_task.cancel()
            await asyncio.gather(self._lease_task, return_exceptions=True)
            self._lease_task = None
        for lease in (self.sender_lease, self.jobs_lease):
            if lease is not None:
                try:
                    await lease.release()
                except Exception:
                    log.exception("could not give up the %s lease", lease.name)
        await self._stop_sending()

    async def close(self) -> None:
        """Stop sending and close the database."""
        self.directory.close()
        await self.stop_sender()
        await self.db.close()

    def now(self) -> datetime:
        """The current time (UTC) from the service clock (tests set their own)."""
        return self.clock()
