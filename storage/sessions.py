"""What a conversation remembers between two updates (see bot.context.remembered)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Database, to_db


class SessionRepository:
    """All SQL about sessions: one JSON object per person."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> dict[str, Any]:
        """The person's session ({} when there is none, or it is not readable)."""
        async with self._db.conn.execute(
            "SELECT data FROM sessions WHERE user_id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        return {} if row is None else _data(row[0])

    async def conversation(self, user_id: int, since: datetime) -> tuple[dict[str, Any], set[str]]:
        """The person's session, and the journeys waiting for their typed answer (touched
        since the date): what an update of theirs needs, in one trip to the database."""
        rows = await self._db.conn.execute_fetchall(
            "SELECT 0, data FROM sessions WHERE user_id = ? UNION ALL "
            "SELECT 1, journey FROM awaited_answers WHERE user_id = ? AND updated_at >= ?",
            (user_id, user_id, to_db(since)),
        )
        session: dict[str, Any] = {}
        awaited: set[str] = set()
        for kind, value in rows:
            if kind == 0:
                session = _data(value)
            else:
                awaited.add(str(value))
        return session, awaited

    async def save(self, user_id: int, data: dict[str, Any], now: datetime) -> None:
        """Keep the session as it is now; an empty one is deleted."""
        if not data:
            await self.delete(user_id)
            return
        await self._db.conn.execute(
            "INSERT INTO sessions (user_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (user_id, json.dumps(data, ensure_ascii=False, sort_keys=True), to_db(now)),
        )

    async def delete(self, user_id: int) -> None:
        """Drop the person's session."""
        await self._db.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    async def purge(self, before: datetime) -> int:
        """Sessions untouched since the date."""
        async with self._db.conn.execute(
            "DELETE FROM sessions WHERE updated_at < ?", (to_db(before),)
        ) as cur:
            return cur.rowcount


def _data(text: str) -> dict[str, Any]:
    """A stored session ({} when it is not readable: written by another version)."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
