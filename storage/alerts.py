"""Alert subscriptions: which campaign calls a person asked for, by topic and by area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db


@dataclass(frozen=True, slots=True)
class Subscription:
    """A person's alert settings (bit masks over bot.domain.vocabulary.TOPIC_ORDER and AREA_ORDER)."""

    user_id: int
    topics: int
    areas: int


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscriber as a call's audience is chosen: settings and saved area (if any)."""

    user_id: int
    topics: int
    areas: int
    area_lat: float | None
    area_lon: float | None


class AlertRepository:
    """All SQL about alert subscriptions."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Subscription | None:
        """The person's settings, or None when they never asked for alerts (or stopped)."""
        async with self._db.conn.execute(
            "SELECT user_id, topics, areas FROM alert_subs WHERE user_id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        return Subscription(row[0], row[1], row[2]) if row else None

    async def set(self, user_id: int, topics: int, areas: int, now: datetime) -> Subscription:
        """Subscribe, or change what the person gets."""
        await self._db.conn.execute(
            "INSERT INTO alert_subs (user_id, topics, areas, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET topics = excluded.topics, "
            "areas = excluded.areas, updated_at = excluded.updated_at",
            (user_id, topics, areas, to_db(now), to_db(now)),
        )
        return Subscription(user_id, topics, areas)

    async def stop(self, user_id: int) -> bool:
        """No more campaign calls at all; False when there was nothing to stop."""
        async with self._db.conn.execute(
            "DELETE FROM alert_subs WHERE user_id = ?", (user_id,)
        ) as cur:
            return cur.rowcount > 0

    async def subscribers(
        self,
        topics: int,
        *,
        after: int = 0,
        limit: int = -1,
        since_before: datetime | None = None,
    ) -> list[Subscriber]:
        """Everyone subscribed to any of ``topics``, with their saved area, by user id: those
        after ``after``, at most ``limit`` (-1: all), subscribed before ``since_before``."""
        async with self._db.conn.execute(
            "SELECT s.user_id, s.topics, s.areas, u.area_lat, u.area_lon FROM alert_subs s "
            "LEFT JOIN users u ON u.id = s.user_id WHERE (s.topics & ?) != 0 AND s.user_id > ? "
            "AND (CAST(? AS TEXT) IS NULL OR s.created_at <= ?) ORDER BY s.user_id LIMIT ?",
            (
                topics,
                after,
                *[to_db(since_before) if since_before else None] * 2,
                limit if limit >= 0 else 2**62,  # no limit (PostgreSQL refuses -1)
            ),
        ) as cur:
            return [Subscriber(r[0], r[1], r[2], r[3], r[4]) for r in await cur.fetchall()]

    async def count(self) -> int:
        """How many people get campaign calls."""
        async with self._db.conn.execute("SELECT COUNT(*) FROM alert_subs") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
