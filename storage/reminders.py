"""Reminder subscriptions: who asked to be reminded of which activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db, utcnow


@dataclass(frozen=True, slots=True)
class Subscription:
    """A person who asked for reminders of an activity, with their settings."""

    user_id: int
    activity_id: int
    created_at: datetime
    day_before: bool
    hour_before: bool


class ReminderRepository:
    """All SQL about reminder subscriptions."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribe(self, user_id: int, activity_id: int, now: datetime | None = None) -> bool:
        """Remind this person of this activity; False when they already were."""
        async with self._db.conn.execute(
            "INSERT INTO reminders (user_id, activity_id, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (user_id, activity_id, to_db(now or utcnow())),
        ) as cur:
            return cur.rowcount > 0

    async def unsubscribe(self, user_id: int, activity_id: int) -> bool:
        """Stop reminding; False when there was nothing to stop."""
        async with self._db.conn.execute(
            "DELETE FROM reminders WHERE user_id = ? AND activity_id = ?", (user_id, activity_id)
        ) as cur:
            return cur.rowcount > 0

    async def is_subscribed(self, user_id: int, activity_id: int) -> bool:
        """Whether this person asked to be reminded of this activity."""
        async with self._db.conn.execute(
            "SELECT 1 FROM reminders WHERE user_id = ? AND activity_id = ?", (user_id, activity_id)
        ) as cur:
            return await cur.fetchone() is not None

    async def activities_of(self, user_id: int) -> list[int]:
        """The activities this person is reminded of, oldest subscription first."""
        async with self._db.conn.execute(
            "SELECT activity_id FROM reminders WHERE user_id = ? ORDER BY created_at, activity_id",
            (user_id,),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def for_activities(self, activity_ids: list[int]) -> list[Subscription]:
        """The subscriptions to these activities with each person's settings (for the planner)."""
        found: list[Subscription] = []
        for i in range(0, len(activity_ids), 500):  # SQLite's bound-parameter limit
            chunk = activity_ids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            async with self._db.conn.execute(
                "SELECT r.user_id, r.activity_id, r.created_at, u.remind_day_before, "
                "u.remind_hour_before FROM reminders r JOIN users u ON u.id = r.user_id "
                f"WHERE r.activity_id IN ({marks})",
                chunk,
            ) as cur:
                found += [
                    Subscription(row[0], row[1], from_db(row[2]), bool(row[3]), bool(row[4]))
                    for row in await cur.fetchall()
                ]
        return found

    async def subscribed_since(self, moment: datetime) -> list[int]:
        """The activities someone asked to be reminded of at or after ``moment`` (on any
        instance)."""
        # Not DISTINCT in SQL: SQLite would then read every reminder in activity order
        # (half a second at national scale, every minute) rather than the few new ones
        async with self._db.conn.execute(
            "SELECT activity_id FROM reminders WHERE created_at >= ?", (to_db(moment),)
        ) as cur:
            return list(dict.fromkeys(row[0] for row in await cur.fetchall()))

    async def subscribed_activities(self, after: int = 0, limit: int = 5_000) -> list[int]:
        """Activities someone asked to be reminded of: up to ``limit`` of them with an id
        above ``after``, by id (a page: at national scale, 80,000 read at once held the
        database and, as rows, megabytes)."""
        async with self._db.conn.execute(
            "SELECT DISTINCT activity_id FROM reminders WHERE activity_id > ? "
            "ORDER BY activity_id LIMIT ?",
            (after, limit),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]
