"""Telegram group chats linked to a City of Sanctuary group (the weekly post)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db


@dataclass(frozen=True, slots=True)
class GroupChat:
    """A group chat, the group whose activities it gets, and in which language."""

    chat_id: int
    group_id: int
    locale: str
    weekly: bool


class GroupChatRepository:
    """All SQL about group chats."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_weekly(
        self, chat_id: int, group_id: int, on: bool, locale: str, now: datetime
    ) -> None:
        """Link the chat to the group and switch its weekly post on or off."""
        await self._db.conn.execute(
            "INSERT INTO group_chats (chat_id, group_id, locale, weekly, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
            "group_id = excluded.group_id, locale = excluded.locale, weekly = excluded.weekly, "
            "updated_at = excluded.updated_at",
            (chat_id, group_id, locale, int(on), to_db(now), to_db(now)),
        )

    async def get(self, chat_id: int) -> GroupChat | None:
        """The chat's link, if any."""
        async with self._db.conn.execute(
            "SELECT chat_id, group_id, locale, weekly FROM group_chats WHERE chat_id = ?",
            (chat_id,),
        ) as cur:
            row = await cur.fetchone()
        return GroupChat(row[0], row[1], row[2], bool(row[3])) if row else None

    async def weekly(self, after: int, limit: int) -> list[GroupChat]:
        """Chats that asked for the weekly post: up to ``limit`` with a chat id above
        ``after``, by chat id (a page)."""
        async with self._db.conn.execute(
            "SELECT chat_id, group_id, locale, weekly FROM group_chats WHERE weekly = 1 "
            "AND chat_id > ? ORDER BY chat_id LIMIT ?",
            (after, limit),
        ) as cur:
            return [GroupChat(r[0], r[1], r[2], True) for r in await cur.fetchall()]
