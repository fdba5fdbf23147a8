"""Retention: keep nothing longer than needed.

A person silent for 12 months is asked once (in daytime) whether they want to stay; 30 days
after that question, if they never wrote again, they are deleted as by /forget. Finished
outbox rows are kept 90 days (then only anonymous monthly counts remain), and the delivery
status of a chat that has no user row goes after 12 months. Who received a campaign call
(and what they answered) goes 90 days after the call finished; its counts stay. The words of a
reported concern go 6 months after it was reviewed (the report stays, as a count and reason). One repeating job runs this;
every step is idempotent, so a missed or repeated run is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.delivery.reminders import QUIET_FROM, QUIET_UNTIL
from bot.domain.recurrence import zone
from storage.awaited import AwaitedRepository
from storage.campaigns import CampaignRepository
from storage.drafts import DraftRepository
from storage.feedback import FeedbackRepository
from storage.outbox import OutboxItem, OutboxRepository
from storage.personal import PersonalDataRepository
from storage.safeguarding import SafeguardingRepository
from storage.sessions import SessionRepository
from storage.users import UserRepository

log = logging.getLogger(__name__)
SILENT_AFTER = timedelta(days=365)
ANSWER_WITHIN = timedelta(days=30)
KEEP_FINISHED_MESSAGES = timedelta(days=90)
KEEP_ORPHAN_CHATS = timedelta(days=365)
KEEP_REPORT_WORDS = timedelta(days=183)  # six months after review
KEEP_UNREAD_WORDS = timedelta(days=365)  # feedback words nobody read: a year at most
KEEP_DRAFTS = timedelta(days=30)  # a half-finished post, or a question unanswered, this long
KEEP_SESSIONS = timedelta(days=1)  # what the next place is for, the last place searched


@dataclass(slots=True)
class RetentionReport:
    """What one run did (counts only: logged)."""

    asked: int = 0
    forgotten: list[int] = field(default_factory=list)
    messages_purged: int = 0
    chats_purged: int = 0
    recipients_purged: int = 0
    words_purged: int = 0
    drafts_purged: int = 0
    sessions_purged: int = 0


class Retention:
    """The daily clean-up (run every hour: each step only acts on what is due)."""

    def __init__(
        self,
        users: UserRepository,
        personal: PersonalDataRepository,
        outbox: OutboxRepository,
        forget: Callable[[int], Awaitable[object]],
        now: Callable[[], datetime],
        tz: str,
        campaigns: CampaignRepository | None = None,
        safeguarding: SafeguardingRepository | None = None,
        feedback: FeedbackRepository | None = None,
        drafts: DraftRepository | None = None,
        awaited: AwaitedRepository | None = None,
        sessions: SessionRepository | None = None,
    ) -> None:
        self.users = users
        self.personal = personal
        self.outbox = outbox
        self.forget = forget
        self.now = now
        self.tz = tz
        self.campaigns = campaigns
        self.safeguarding = safeguarding
        self.feedback = feedback
        self.drafts = drafts
        self.awaited = awaited
        self.sessions = sessions

    def daytime(self, moment: datetime) -> bool:
        """Whether questions may be sent now (outside quiet hours in the network's zone)."""
        local = moment.astimezone(zone(self.tz)).time()
        return QUIET_UNTIL <= local < QUIET_FROM

    async def run(self) -> RetentionReport:
        """Ask, delete and purge what is due now."""
        now = self.now()
        report = RetentionReport()
        if self.daytime(now):
            silent = await self.users.silent_since(now - SILENT_AFTER)
            if silent:
                # The subject names the silence being asked about: a repeat adds nothing.
                await self.outbox.enqueue(
                    [OutboxItem("stay", f"seen:{seen}", user_id) for user_id, seen in silent], now
                )
                await self.users.mark_asked([user_id for user_id, _seen in silent], now)
                report.asked = len(silent)
        for user_id in await self.users.unanswered_since(now - ANSWER_WITHIN):
            await self.forget(user_id)
            report.forgotten.append(user_id)
        report.messages_purged = await self.outbox.purge_finished(now - KEEP_FINISHED_MESSAGES)
        report.chats_purged = await self.personal.purge_orphan_chats(now - KEEP_ORPHAN_CHATS)
        if self.campaigns is not None:
            report.recipients_purged = await self.campaigns.purge_recipients(
                now - KEEP_FINISHED_MESSAGES
            )
        if self.safeguarding is not None:
            report.words_purged = await self.safeguarding.purge_words(now - KEEP_REPORT_WORDS)
        if self.feedback is not None:
            report.words_purged += await self.feedback.purge_words(
                now - KEEP_REPORT_WORDS, now - KEEP_UNREAD_WORDS
            )
        if self.drafts is not None:
            report.drafts_purged = await self.drafts.purge(now - KEEP_DRAFTS)
        if self.awaited is not None:
            report.drafts_purged += await self.awaited.purge(now - KEEP_DRAFTS)
        if self.sessions is not None:
            report.sessions_purged = await self.sessions.purge(now - KEEP_SESSIONS)
        if (
            report.words_purged
            or report.asked
            or report.forgotten
            or report.messages_purged
            or report.chats_purged
            or report.recipients_purged
            or report.drafts_purged
            or report.sessions_purged
        ):
            log.info(
                "retention: asked %d, deleted %d people, %d old messages, %d chat statuses, "
                "%d call recipients, %d report and feedback texts, %d drafts and questions, "
                "%d sessions",
                report.asked,
                len(report.forgotten),
                report.messages_purged,
                report.chats_purged,
                report.recipients_purged,
                report.words_purged,
                report.drafts_purged,
                report.sessions_purged,
            )
        return report
