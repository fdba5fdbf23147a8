"""The updates handled through the webhook, by update_id, kept for a limited time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.db import Database, to_db

BATCH = 400  # rows a statement: SQLite takes up to 32,766 bound values


class HandledUpdates:
    """``handled_updates``: which update_ids were handled, and when."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def since(self, moment: datetime) -> list[int]:
        """The update_ids handled at or after ``moment``, oldest first."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT update_id FROM handled_updates WHERE handled_at >= ? ORDER BY handled_at",
            (to_db(moment),),
        )
        return [int(row[0]) for row in rows]

    async def among(self, update_ids: Sequence[int]) -> set[int]:
        """Those of ``update_ids`` that were handled (by any instance sharing the database):
        one statement (one trip to the database's thread) for up to ``BATCH`` of them."""
        found: set[int] = set()
        for start in range(0, len(update_ids), BATCH):
            batch = update_ids[start : start + BATCH]
            rows = await self.db.conn.execute_fetchall(
                "SELECT update_id FROM handled_updates WHERE update_id IN ("
                + ", ".join(["?"] * len(batch))
                + ")",
                batch,
            )
            found.update(int(row[0]) for row in rows)
        return found

    async def record(self, update_ids: Sequence[int], at: datetime) -> None:
        """Record update_ids as handled at ``at``: one statement (so one trip to the
        database's thread) for up to ``BATCH`` of them, each statement whole or not at all."""
        stamp = to_db(at)
        for start in range(0, len(update_ids), BATCH):
            batch = update_ids[start : start + BATCH]
            await self.db.conn.execute(
                "INSERT INTO handled_updates (update_id, handled_at) VALUES "
                + ", ".join(["(?, ?)"] * len(batch))
                + " ON CONFLICT (update_id) DO NOTHING",
                [value for update_id in batch for value in (update_id, stamp)],
            )

    async def purge(self, before: datetime, batch: int = 5000) -> int:
        """Forget update_ids handled before ``before``, ``batch`` rows a statement."""
        total = 0
        while True:
            async with self.db.conn.execute(
                "DELETE FROM handled_updates WHERE update_id IN (SELECT update_id FROM "
                "handled_updates WHERE handled_at < ? LIMIT ?)",
                (to_db(before), batch),
            ) as cur:
                deleted = cur.rowcount
            total += max(0, deleted)
            if deleted < batch:
                return total
