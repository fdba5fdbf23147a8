"""The services the handlers use, created in post_init and closed in post_shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from telegram import Bot

from bot.callbacks import check_signature, signature
from bot.config import Config, ConfigError
from bot.delivery.outbox import RateLimiter, Sender
from bot.delivery.reminders import (
    ReminderPlanner,
    WeeklyPlanner,
    digest_planner,
    weekly_post_planner,
)
from bot.domain.campaigns import CampaignDesk
from bot.domain.organiser import Organiser
from bot.domain.retention import Retention, RetentionReport
from bot.places.geo import Gazetteer, Locator, Outcodes
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
from storage.outbox import OutboxRepository
from storage.personal import PersonalDataRepository
from storage.reminders import ReminderRepository
from storage.roles import RoleRepository
from storage.safeguarding import SafeguardingRepository
from storage.translations import TranslationRepository
from storage.users import UserRepository


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
    clock: Callable[[], datetime] = utcnow
    button_key: bytes = b""  # signs buttons made for one person (see ``report_mark``)
    metrics: Metrics = field(default_factory=Metrics)
    sender: Sender | None = None
    _sender_task: asyncio.Task[None] | None = None
    _planner: ReminderPlanner | None = None
    _weekly: list[WeeklyPlanner] = field(default_factory=list)
    # what others hold in memory about a person, each let go of when the person is forgotten
    forget_in_memory: list[Callable[[int], object]] = field(default_factory=list)

    desk: CampaignDesk = field(init=False)
    organiser: Organiser = field(init=False)
    translations: TranslationRepository = field(init=False)

    def __post_init__(self) -> None:
        self.users.clock = self.now  # rows carry the service clock's time (tests move it)
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

    def _wake(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    @classmethod
    async def create(
        cls,
        config: Config,
        gazetteer: Gazetteer | None = None,
        outcodes: Outcodes | None = None,
    ) -> Services:
        """Open the database, load places and the directory."""
        db = await Database.open(config.database)
        try:
            return await cls._create(config, db, gazetteer, outcodes)
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
    ) -> Services:
        if outcodes is None:
            outcodes = load_outcodes(config)
        gazetteer = gazetteer or Gazetteer.load(config.cache_dir)
        activities = ActivityRepository(db)
        groups = GroupRepository(db)
        directory = Directory(activities, groups)
        await directory.refresh(force=True)
        safeguarding = SafeguardingRepository(db)
        return cls(
            config=config,
            db=db,
            users=UserRepository(db),
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
            button_key=await safeguarding.secret("buttons"),
        )

    def report_mark(self, user_id: int, activity_id: int) -> str:
        """What a card's "Report a concern" carries: only the person it was shown to can
        report that activity with it (forged or borrowed data is refused)."""
        return signature(self.button_key, "report", user_id, activity_id)

    def check_report_mark(self, mark: str, user_id: int, activity_id: int) -> None:
        """Raise Expired unless ``mark`` was made for this person and activity."""
        check_signature(self.button_key, mark, "report", user_id, activity_id)

    async def start_sender(self, bot: Bot) -> None:
        """Start the one task that sends the outbox (after recovering rows a crash left)."""
        from bot.delivery.renderers import build_renderers

        limiter = RateLimiter(per_second=self.config.send_rate)
        renderers = build_renderers(
            self.directory, self.now, self.users, self.config, self.campaigns, self.translations
        )
        self.sender = Sender(
            bot, self.outbox, self.users, renderers, limiter, now=self.now, metrics=self.metrics
        )
        await self.sender.start()
        self._sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")

    def sender_alive(self) -> bool:
        """True while the outbox sender's task runs."""
        return self._sender_task is not None and not self._sender_task.done()

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
        )
        report = await retention.run()
        if retention.daytime(self.now()):  # questions are not sent at night
            await self.organiser.keep_fresh()
            await self.organiser.ask_feedback()
        if report.asked and self.sender is not None:
            self.sender.wake()
        return report

    async def stop_sender(self) -> None:
        """Let the message in flight finish, then stop sending."""
        if self.sender is not None and self._sender_task is not None:
            self.sender.stop()
            await self._sender_task
            self._sender_task = None

    async def close(self) -> None:
        """Stop sending and close the database."""
        await self.stop_sender()
        await self.db.close()

    def now(self) -> datetime:
        """The current time (UTC) from the service clock (tests set their own)."""
        return self.clock()
