"""Reminders: turn "Remind me" subscriptions into outbox rows as their moments come.

One repeating job (not one job per reminder) asks the planner every minute. A reminder goes
24 hours and 1 hour before each occurrence (each can be switched off); the day-before one
waits out quiet hours (21:00-08:00 in the activity's zone). A moment missed while the bot was
down is still sent if the activity has not started; rows are unique per person, occurrence
and lead, so planning twice never sends twice.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

from bot.domain.recurrence import Occurrence, local_to_utc, zone
from bot.search.directory import Directory
from storage.group_chats import GroupChatRepository
from storage.outbox import CHUNK, OutboxItem, OutboxRepository
from storage.reminders import ReminderRepository, Subscription
from storage.users import UserRepository

LEADS: dict[str, timedelta] = {"day": timedelta(hours=24), "hour": timedelta(hours=1)}
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
PLAN_AHEAD = timedelta(minutes=2)


def reminder_moment(start: datetime, lead: str, tz: str) -> datetime | None:
    """When to remind (UTC) of an occurrence starting at ``start``; None when it is too late.

    The day-before reminder never goes in quiet hours: it waits until 08:00 local time.
    """
    moment = start - LEADS[lead]
    if lead == "hour":
        return moment
    local = moment.astimezone(zone(tz))
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return moment
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    moment = local_to_utc(day, QUIET_UNTIL, tz)
    return moment if moment < start else None


def _wants(sub: Subscription, lead: str) -> bool:
    return sub.day_before if lead == "day" else sub.hour_before


PLAN_BATCH = 200  # activities looked at between two yields to the event loop
RESYNC_EVERY = 30  # runs between two reads of every activity someone asked reminders of
_SOON = datetime.min.replace(tzinfo=UTC)  # looked at on the next run


class ReminderPlanner:
    """Puts due reminders in the outbox; remembers what it planned to skip repeats cheaply.

    Each activity someone asked reminders of has a time to be looked at again: a little before
    its next reminder moment. A run looks only at the activities whose time has come (all of
    them once, at start), a batch at a time, yielding in between; an activity that changed, or
    that someone just asked reminders of, is looked at on the next run.
    """

    def __init__(
        self,
        reminders: ReminderRepository,
        outbox: OutboxRepository,
        directory: Directory,
        now: Callable[[], datetime],
    ) -> None:
        self.reminders = reminders
        self.outbox = outbox
        self.directory = directory
        self.now = now
        # activity id: the moment up to which its reminders are planned (rows are unique in
        # the outbox, so planning one again adds nothing: this only saves asking)
        self._planned: dict[int, datetime] = {}
        self._wake: dict[int, datetime] = {}  # activity id: when to look at it next
        self._queue: list[tuple[datetime, int]] = []  # the same, earliest first (some stale)
        self._last_run: datetime | None = None
        self._runs = 0
        directory.watch(self.touch)

    def reset(self) -> None:
        """Look at everything again on the next run, as at a start (this instance takes the
        jobs over from another, which may have planned anything meanwhile)."""
        self._planned.clear()
        self._wake.clear()
        self._queue = []
        self._last_run = None
        self._runs = 0

    def touch(self, activity_id: int) -> None:
        """Look at an activity someone asked reminders of again on the next run (it changed)."""
        if activity_id in self._wake:
            self._planned.pop(activity_id, None)
            self._set_wake(activity_id, _SOON)

    def subscribed(self, activity_id: int) -> None:
        """Someone just asked reminders of this activity: look at it on the next run."""
        self._planned.pop(activity_id, None)
        self._set_wake(activity_id, _SOON)

    def _set_wake(self, activity_id: int, when: datetime) -> None:
        self._wake[activity_id] = when
        heapq.heappush(self._queue, (when, activity_id))

    async def plan(self) -> int:
        """Enqueue every reminder due by now (or in the next two minutes); returns rows added."""
        now = self.now()
        if self._last_run is not None and now < self._last_run:
            self._planned.clear()  # the clock went back: look at everything again
            for activity_id in self._wake:
                self._set_wake(activity_id, now)
        if self._last_run is not None:  # asked for since, here or on another instance
            for activity_id in await self.reminders.subscribed_since(self._last_run - PLAN_AHEAD):
                self.subscribed(activity_id)
        self._last_run = now
        if self._runs % RESYNC_EVERY == 0:  # new ones are told (subscribed); this is a net
            for activity_id in await self.reminders.subscribed_activities():
                if activity_id not in self._wake:
                    self._set_wake(activity_id, now)
        self._runs += 1
        due: list[int] = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            when, activity_id = heapq.heappop(queue)
            if self._wake.get(activity_id) == when:
                due.append(activity_id)
        if len(queue) > 2 * len(self._wake) + 1_000:  # drop the stale entries now and then
            self._queue = queue = [(w, a) for a, w in self._wake.items()]
            heapq.heapify(queue)
        added = 0
        for i in range(0, len(due), PLAN_BATCH):
            added += await self._plan_batch(due[i : i + PLAN_BATCH], now)
            await asyncio.sleep(0)
        return added

    async def _plan_batch(self, activity_ids: list[int], now: datetime) -> int:
        """Plan what is due of these activities, and when to look at each again."""
        horizon = now + LEADS["day"] + PLAN_AHEAD
        due: dict[int, list[Occurrence]] = {}
        for activity_id in activity_ids:
            schedule = self.directory.schedules.get(activity_id)
            # not schedule.next: its cache is for the results pages, and the planner looks at
            # each activity once in a while, so keeping it would only hold memory
            found = schedule.occurrences(now, 1) if schedule is not None else []
            upcoming = found[0] if found else None
            if schedule is None or upcoming is None:
                del self._wake[activity_id]  # not shown, or over: looked at if it changes
                self._planned.pop(activity_id, None)
                continue
            if upcoming.start > horizon:  # no moment comes before a day ahead of it
                self._set_wake(activity_id, upcoming.start - LEADS["day"] - PLAN_AHEAD)
                continue
            occurrences = schedule.occurrences(now, 3)
            due[activity_id] = occurrences
            self._set_wake(activity_id, self._next_look(occurrences, schedule.tz, now))
        by_activity: dict[int, list[Subscription]] = defaultdict(list)
        for sub in await self.reminders.for_activities(list(due)):
            by_activity[sub.activity_id].append(sub)
        items: list[OutboxItem] = []
        planned_now = now + PLAN_AHEAD  # one object for every activity planned in this run
        for activity_id, occurrences in due.items():
            subs = by_activity.get(activity_id)
            if not subs:
                del self._wake[activity_id]  # nobody asked any more
                self._planned.pop(activity_id, None)
                continue
            tz = self.directory.schedules[activity_id].tz
            planned = self._planned.get(activity_id, _SOON)
            self._planned[activity_id] = planned_now
            for occurrence in occurrences:
                start = occurrence.start
                if start > horizon:
                    break
                if start <= now:
                    continue  # already started: too late to remind
                for lead in LEADS:
                    moment = reminder_moment(start, lead, tz)
                    if moment is None or moment > now + PLAN_AHEAD or moment <= planned:
                        continue
                    for sub in subs:
                        if not _wants(sub, lead):
                            continue
                        if sub.created_at > moment:
                            continue  # asked after that moment: no late "tomorrow" reminder
                        items.append(
                            OutboxItem(
                                "reminder",
                                f"{activity_id}:{start.isoformat()}:{lead}",
                                sub.user_id,
                                {"activity_id": activity_id, "start": start.isoformat()},
                                not_before=max(moment, now),
                            )
                        )
        return await self.outbox.enqueue(items, now) if items else 0

    @staticmethod
    def _next_look(occurrences: list[Occurrence], tz: str, now: datetime) -> datetime:
        """A little before the first reminder moment after this run's, or when the last of
        these occurrences ends (to look further)."""
        moments = [
            moment
            for occurrence in occurrences
            if occurrence.start > now
            for lead in LEADS
            if (moment := reminder_moment(occurrence.start, lead, tz)) is not None
            and moment > now + PLAN_AHEAD
        ]
        if moments:
            return min(moments) - PLAN_AHEAD
        return max(now + PLAN_AHEAD, occurrences[-1].end if occurrences else now)

    def forget(self, user_id: int) -> None:
        """What the planner remembers is by activity, nothing about a person: nothing to drop
        when a person's data is deleted (kept for the callers)."""


DIGEST_WEEKDAY, DIGEST_FROM = 0, time(9, 0)  # Mondays from 09:00, until quiet hours


def digest_week(now: datetime, tz: str) -> str | None:
    """The ISO week whose digest is due now (Monday 09:00-21:00 local time), else None."""
    local = now.astimezone(zone(tz))
    if local.weekday() != DIGEST_WEEKDAY or not DIGEST_FROM <= local.time() < QUIET_FROM:
        return None
    year, week, _day = local.date().isocalendar()
    return f"{year}-W{week:02d}"


FIRST_ID = -(2**63)  # below every user id and every (negative) group chat id

# One page of a week's recipients: (week, after, limit) -> up to ``limit`` rows for chat ids
# above ``after``, by chat id.
Recipients = Callable[[str, int, int], Awaitable[list[OutboxItem]]]


class WeeklyPlanner:
    """Puts one row per recipient in the outbox each Monday from 09:00, once per week.

    Recipients are read a page (``CHUNK``) at a time and each page written in its own short
    transaction, yielding in between: 200,000 digest readers never hold the database or the
    event loop for long, nor sit in memory at once. A restart (or a run that failed half
    way) re-plans harmlessly: rows are unique per kind, week and recipient, so the next run
    adds only what is missing.
    """

    def __init__(
        self,
        recipients: Recipients,
        outbox: OutboxRepository,
        now: Callable[[], datetime],
        tz: str,
    ) -> None:
        self.recipients = recipients
        self.outbox = outbox
        self.now = now
        self.tz = tz
        self._done_week: str | None = None

    async def plan(self) -> int:
        """Enqueue this week's rows if it is Monday daytime and not done yet; rows added."""
        now = self.now()
        week = digest_week(now, self.tz)
        if week is None or week == self._done_week:
            return 0
        added, after = 0, FIRST_ID
        while page := await self.recipients(week, after, CHUNK):
            added += await self.outbox.enqueue(page, now)
            after = page[-1].chat_id
            await asyncio.sleep(0)
        self._done_week = week
        return added


def digest_planner(
    users: UserRepository, outbox: OutboxRepository, now: Callable[[], datetime], tz: str
) -> WeeklyPlanner:
    """The weekly digest for everyone who asked for it and saved an area."""

    async def readers(week: str, after: int, limit: int) -> list[OutboxItem]:
        return [
            OutboxItem("digest", week, user_id)
            for user_id in await users.digest_readers(after, limit)
        ]

    return WeeklyPlanner(readers, outbox, now, tz)


def weekly_post_planner(
    chats: GroupChatRepository, outbox: OutboxRepository, now: Callable[[], datetime], tz: str
) -> WeeklyPlanner:
    """The week's activities for every group chat that asked (the limiter spaces them 20/min)."""

    async def group_chats(week: str, after: int, limit: int) -> list[OutboxItem]:
        return [
            OutboxItem(
                "weekly", week, chat.chat_id, {"group_id": chat.group_id, "locale": chat.locale}
            )
            for chat in await chats.weekly(after, limit)
        ]

    return WeeklyPlanner(group_chats, outbox, now, tz)
