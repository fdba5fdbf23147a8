"""Half-finished posts and edits: the answers so far and the question being asked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import Database, from_db, to_db


@dataclass(slots=True)
class Draft:
    """One person's post (section ``all``) or edit of one part of an activity in progress."""

    user_id: int
    group_id: int
    step: str
    activity_id: int | None = None
    section: str = "all"
    data: dict[str, Any] = field(default_factory=dict)
    trail: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


class DraftRepository:
    """All SQL about drafts."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Draft | None:
        """The person's draft, if any."""
        async with self._db.conn.execute(
            "SELECT user_id, group_id, activity_id, section, step, data, trail, updated_at "
            "FROM activity_drafts WHERE user_id = ?",
            (user_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Draft(
            user_id=row[0],
            group_id=row[1],
            activity_id=row[2],
            section=row[3],
            step=row[4],
            data=json.loads(row[5]),
            trail=list(json.loads(row[6])),
            updated_at=from_db(row[7]),
        )

    async def save(self, draft: Draft, now: datetime) -> None:
        """Store the draft as it is now (replacing the person's previous one)."""
        stamp = to_db(now)
        await self._db.conn.execute(
            "INSERT INTO activity_drafts (user_id, group_id, activity_id, section, step, data, "
            "trail, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET group_id = excluded.group_id, "
            "activity_id = excluded.activity_id, section = excluded.section, "
            "step = excluded.step, data = excluded.data, trail = excluded.trail, "
            "updated_at = excluded.updated_at",
            (
                draft.user_id,
                draft.group_id,
                draft.activity_id,
                draft.section,
                draft.step,
                json.dumps(draft.data, ensure_ascii=False),
                json.dumps(draft.trail),
                stamp,
                stamp,
            ),
        )
        draft.updated_at = now

    async def delete(self, user_id: int) -> bool:
        """Drop the person's draft."""
        async with self._db.conn.execute(
            "DELETE FROM activity_drafts WHERE user_id = ?", (user_id,)
        ) as cur:
            return cur.rowcount > 0

    async def purge(self, before: datetime) -> int:
        """Drafts untouched since the date."""
        async with self._db.conn.execute(
            "DELETE FROM activity_drafts WHERE updated_at < ?", (to_db(before),)
        ) as cur:
            return cur.rowcount
