"""Anonymous feedback: how welcome people felt at an activity they said they were interested
in. Organisers see counts, the average and (from a few answers on) the words, never who."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db

WORDS_LIMIT = 500
WORDS_SHOWN_FROM = 3  # fewer answers than this: words are not shown (they could tell who)


@dataclass(frozen=True, slots=True)
class Interested:
    """Someone who said "I'm interested" and was not asked for feedback yet."""

    activity_id: int
    user_id: int
    since: datetime


@dataclass(frozen=True, slots=True)
class Summary:
    """What an organiser sees: how many answered, the average, and words if enough answered."""

    answers: int
    average: float
    scores: tuple[int, int, int, int, int]  # how many answered 1, 2, 3, 4, 5
    words: tuple[str, ...]


class FeedbackRepository:
    """All SQL about feedback (and the asked mark on interest)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def not_asked(self, limit: int = 1000) -> list[Interested]:
        """Interest marks whose person has not been asked how welcome they felt."""
        async with self._db.conn.execute(
            "SELECT activity_id, user_id, created_at FROM interest WHERE asked_at IS NULL "
            "ORDER BY created_at LIMIT ?",
            (limit,),
        ) as cur:
            return [Interested(r[0], r[1], from_db(r[2])) for r in await cur.fetchall()]

    async def mark_asked(self, pairs: list[tuple[int, int]], now: datetime) -> None:
        """Record that these (activity, person) were asked."""
        await self._db.conn.executemany(
            "UPDATE interest SET asked_at = ? WHERE activity_id = ? AND user_id = ?",
            [(to_db(now), a, u) for a, u in pairs],
        )

    async def was_asked(self, activity_id: int, user_id: int) -> bool:
        """Only people asked may answer (a forged button from anyone else is refused)."""
        async with self._db.conn.execute(
            "SELECT 1 FROM interest WHERE activity_id = ? AND user_id = ? AND asked_at IS NOT NULL",
            (activity_id, user_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def answer(self, activity_id: int, user_id: int, welcome: int, now: datetime) -> None:
        """Record (or change) how welcome the person felt, 1 to 5."""
        if not 1 <= welcome <= 5:
            raise ValueError(welcome)
        await self._db.conn.execute(
            "INSERT INTO feedback (activity_id, user_id, welcome, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (activity_id, user_id) DO UPDATE SET welcome = excluded.welcome",
            (activity_id, user_id, welcome, to_db(now)),
        )

    async def add_words(self, activity_id: int, user_id: int, words: str) -> bool:
        """The person's optional words, on their own answer."""
        async with self._db.conn.execute(
            "UPDATE feedback SET words = ?, reviewed_at = NULL "
            "WHERE activity_id = ? AND user_id = ?",
            (words[:WORDS_LIMIT], activity_id, user_id),
        ) as cur:
            return cur.rowcount > 0

    async def summary(self, activity_id: int, now: datetime) -> Summary:
        """The aggregate an organiser sees; words shown are marked read (their 6 months start)."""
        async with self._db.conn.execute(
            "SELECT welcome, COUNT(*) FROM feedback WHERE activity_id = ? GROUP BY welcome",
            (activity_id,),
        ) as cur:
            counts = {int(r[0]): int(r[1]) for r in await cur.fetchall()}
        answers = sum(counts.values())
        scores = (counts.get(1, 0), counts.get(2, 0), counts.get(3, 0), counts.get(4, 0),
                  counts.get(5, 0))  # fmt: skip
        average = sum(k * v for k, v in counts.items()) / answers if answers else 0.0
        words: tuple[str, ...] = ()
        if answers >= WORDS_SHOWN_FROM:
            async with self._db.conn.execute(
                "SELECT words FROM feedback WHERE activity_id = ? AND words IS NOT NULL "
                "ORDER BY words",  # not by time: the order must not tell who wrote what
                (activity_id,),
            ) as cur:
                words = tuple(r[0] for r in await cur.fetchall())
            await self._db.conn.execute(
                "UPDATE feedback SET reviewed_at = ? WHERE activity_id = ? AND words IS NOT NULL "
                "AND reviewed_at IS NULL",
                (to_db(now), activity_id),
            )
        return Summary(answers, round(average, 1), scores, words)

    async def purge_words(self, read_before: datetime, written_before: datetime) -> int:
        """Delete words read before the first date, or written before the second (unread)."""
        async with self._db.conn.execute(
            "UPDATE feedback SET words = NULL WHERE words IS NOT NULL "
            "AND (reviewed_at < ? OR created_at < ?)",
            (to_db(read_before), to_db(written_before)),
        ) as cur:
            return cur.rowcount
