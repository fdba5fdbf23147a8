"""Typed answers the bot waits for: which question each person was asked, kept across restarts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db

# What an answer is for: an id, a field name, or a tuple of them (a JSON list in the table).
About = int | str | tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Awaited:
    """One person waited on by one journey, and what their next text answers."""

    user_id: int
    journey: str
    about: About | None  # None: not readable (the journey asks again)
    updated_at: datetime


def _about(text: str) -> About | None:
    """The subject stored as JSON; None when it is not one (written by another version)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, int | str) for v in value):
        return tuple(value)
    return value if isinstance(value, int | str) else None


class AwaitedRepository:
    """All SQL about awaited answers."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def expect(self, user_id: int, journey: str, about: About, now: datetime) -> None:
        """Wait for the person's answer about ``about`` (replacing what the journey waited for)."""
        await self._db.conn.execute(
            "INSERT INTO awaited_answers (user_id, journey, about, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, journey) DO UPDATE SET about = excluded.about, "
            "updated_at = excluded.updated_at",
            (user_id, journey, json.dumps(about, ensure_ascii=False), to_db(now)),
        )

    async def waits(self, user_id: int, journey: str) -> bool:
        """Whether the journey still waits for the person's answer (its row is kept)."""
        async with self._db.conn.execute(
            "SELECT 1 FROM awaited_answers WHERE user_id = ? AND journey = ?", (user_id, journey)
        ) as cur:
            return await cur.fetchone() is not None

    async def get(self, user_id: int, journey: str) -> About | None:
        """What the person's next text answers in the journey (None: nothing awaited)."""
        return await self._one_about(
            "SELECT about FROM awaited_answers WHERE user_id = ? AND journey = ?", user_id, journey
        )

    async def take(self, user_id: int, journey: str) -> About | None:
        """Wait no longer for the person's answer in the journey; what it was for."""
        return await self._one_about(
            "DELETE FROM awaited_answers WHERE user_id = ? AND journey = ? RETURNING about",
            user_id,
            journey,
        )

    async def _one_about(self, sql: str, user_id: int, journey: str) -> About | None:
        """The ``about`` of the one row ``sql`` reads (or deletes) for the person and journey."""
        async with self._db.conn.execute(sql, (user_id, journey)) as cur:
            row = await cur.fetchone()
        return None if row is None else _about(row[0])

    async def of(self, journey: str, since: datetime) -> list[Awaited]:
        """The journey's awaited answers touched since the date (waited for again on start)."""
        async with self._db.conn.execute(
            "SELECT user_id, about, updated_at FROM awaited_answers "
            "WHERE journey = ? AND updated_at >= ? ORDER BY user_id",
            (journey, to_db(since)),
        ) as cur:
            rows = await cur.fetchall()
        return [Awaited(int(r[0]), journey, _about(r[1]), from_db(r[2])) for r in rows]

    async def purge(self, before: datetime) -> int:
        """Awaited answers untouched since the date."""
        async with self._db.conn.execute(
            "DELETE FROM awaited_answers WHERE updated_at < ?", (to_db(before),)
        ) as cur:
            return cur.rowcount
