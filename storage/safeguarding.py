"""Safeguarding: a group's safeguarding contact, reported concerns, and anonymous interest."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db

REASONS = ("wrong", "unsafe", "money", "other")
WORDS_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Contact:
    """A group's safeguarding contact."""

    group_id: int
    user_id: int
    label: str


@dataclass(frozen=True, slots=True)
class Report:
    """A concern as reviewers see it: no reporter."""

    id: int
    activity_id: int
    reason: str
    words: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Filed:
    """What filing a report did."""

    report_id: int | None  # None: this person had already reported this activity
    open_reports: int  # open reports about the activity now, one per person, that count


class SafeguardingRepository:
    """All SQL about safeguarding contacts, reports and interest."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_contact(
        self, group_id: int, user_id: int, label: str, actor: int, now: datetime
    ) -> None:
        """Make a team member the group's safeguarding contact (replacing the previous one)."""
        await self._db.conn.execute(
            "INSERT INTO safeguarding_contacts (group_id, user_id, label, set_by, set_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET "
            "user_id = excluded.user_id, label = excluded.label, set_by = excluded.set_by, "
            "set_at = excluded.set_at",
            (group_id, user_id, label[:64], actor, to_db(now)),
        )

    async def contact(self, group_id: int) -> Contact | None:
        """The group's safeguarding contact, if set."""
        async with self._db.conn.execute(
            "SELECT group_id, user_id, label FROM safeguarding_contacts WHERE group_id = ?",
            (group_id,),
        ) as cur:
            row = await cur.fetchone()
        return Contact(row[0], row[1], row[2]) if row else None

    async def secret(self, name: str) -> bytes:
        """A random secret made once for this database (kept in ``secrets``)."""
        await self._db.conn.execute(
            "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, secrets.token_bytes(32)),
        )
        async with self._db.conn.execute(
            "SELECT value FROM secrets WHERE name = ?", (name,)
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return bytes(row[0])

    async def contact_of(self, user_id: int) -> list[int]:
        """The groups the person is the safeguarding contact of."""
        async with self._db.conn.execute(
            "SELECT group_id FROM safeguarding_contacts WHERE user_id = ? ORDER BY group_id",
            (user_id,),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def file(
        self, activity_id: int, reporter: int, reason: str, now: datetime, settled_before: datetime
    ) -> Filed:
        """Record a concern (once per person and activity) and count the open ones that may
        hide it (bot/domain/safeguarding.py): one per person, from people who have used the bot
        since ``settled_before`` at least (not forgotten since). Reviewers see every report all
        the same."""
        if reason not in REASONS:
            raise ValueError(reason)
        async with self._db.transaction() as conn:
            async with conn.execute(
                "INSERT INTO reports (activity_id, reporter, reason, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (activity_id, reporter, reason, to_db(now)),
            ) as cur:
                row = await cur.fetchone()
            async with conn.execute(
                "SELECT COUNT(DISTINCT r.reporter) FROM reports r JOIN users u "
                "ON u.id = r.reporter WHERE r.activity_id = ? AND r.reviewed_at IS NULL "
                "AND u.created_at <= ?",
                (activity_id, to_db(settled_before)),
            ) as cur:
                count = await cur.fetchone()
        return Filed(int(row[0]) if row else None, int(count[0]) if count else 0)

    async def add_words(self, report_id: int, reporter: int, words: str) -> bool:
        """The reporter's optional words, on their own open report only."""
        async with self._db.conn.execute(
            "UPDATE reports SET words = ? WHERE id = ? AND reporter = ? AND reviewed_at IS NULL",
            (words[:WORDS_LIMIT], report_id, reporter),
        ) as cur:
            return cur.rowcount > 0

    async def open_reports(self, activity_ids: list[int] | None = None) -> list[Report]:
        """Reports not reviewed yet (of these activities; all when None), oldest first."""
        async with self._db.conn.execute(
            "SELECT id, activity_id, reason, words, created_at FROM reports "
            "WHERE reviewed_at IS NULL ORDER BY activity_id, id"
        ) as cur:
            rows = await cur.fetchall()
        wanted = None if activity_ids is None else set(activity_ids)
        return [
            Report(r[0], r[1], r[2], r[3], from_db(r[4]))
            for r in rows
            if wanted is None or r[1] in wanted
        ]

    async def review(self, activity_id: int, outcome: str, now: datetime) -> int:
        """Close the open reports of an activity; returns how many."""
        if outcome not in ("restored", "removed"):
            raise ValueError(outcome)
        async with self._db.conn.execute(
            "UPDATE reports SET reviewed_at = ?, outcome = ? WHERE activity_id = ? "
            "AND reviewed_at IS NULL",
            (to_db(now), outcome, activity_id),
        ) as cur:
            return cur.rowcount

    async def removed_reasons(self, activity_ids: list[int]) -> dict[int, list[str]]:
        """The reasons of the reports that had these activities removed (by activity)."""
        marks = ", ".join("?" * len(activity_ids)) or "NULL"
        async with self._db.conn.execute(
            "SELECT DISTINCT activity_id, reason FROM reports WHERE outcome = 'removed' "
            f"AND activity_id IN ({marks}) ORDER BY activity_id, reason",
            tuple(activity_ids),
        ) as cur:
            rows = await cur.fetchall()
        found: dict[int, list[str]] = {}
        for activity_id, reason in rows:
            found.setdefault(int(activity_id), []).append(str(reason))
        return found

    async def purge_words(self, reviewed_before: datetime) -> int:
        """Delete the words of reports reviewed before the date (the reports stay as counts)."""
        async with self._db.conn.execute(
            "UPDATE reports SET words = NULL WHERE words IS NOT NULL AND reviewed_at < ?",
            (to_db(reviewed_before),),
        ) as cur:
            return cur.rowcount

    async def toggle_interest(self, activity_id: int, user_id: int, now: datetime) -> bool:
        """Mark or unmark "I'm interested"; True when the person is now marked."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "DELETE FROM interest WHERE activity_id = ? AND user_id = ?",
                (activity_id, user_id),
            ) as cur:
                if cur.rowcount:
                    return False
            await conn.execute(
                "INSERT INTO interest (activity_id, user_id, created_at) VALUES (?, ?, ?)",
                (activity_id, user_id, to_db(now)),
            )
        return True

    async def is_interested(self, activity_id: int, user_id: int) -> bool:
        """Whether the person marked the activity."""
        async with self._db.conn.execute(
            "SELECT 1 FROM interest WHERE activity_id = ? AND user_id = ?",
            (activity_id, user_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def interest_counts(self, group_id: int) -> list[tuple[int, str, int]]:
        """(activity id, title, people interested) for a group's activities with any."""
        async with self._db.conn.execute(
            "SELECT a.id, a.title, COUNT(*) FROM interest i JOIN activities a "
            "ON a.id = i.activity_id WHERE a.group_id = ? GROUP BY a.id ORDER BY 3 DESC, a.id",
            (group_id,),
        ) as cur:
            return [(r[0], r[1], int(r[2])) for r in await cur.fetchall()]
