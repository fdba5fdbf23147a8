"""Leases: work that runs on one instance at a time, taken over when its holder stops."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, from_db, to_db


class LeaseRepository:
    """All SQL about leases (plain INSERT ... ON CONFLICT, the same on every engine)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold the lease ``name`` until ``until``: renewed if ``holder`` holds it, taken if
        nobody does or its holder let it expire. True if ``holder`` holds it now."""
        async with self._db.conn.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at < ? "
            "RETURNING holder",
            (name, holder, to_db(until), to_db(now)),
        ) as cur:
            row = await cur.fetchone()
        return row is not None

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up (a graceful stop): another instance takes it at its next try."""
        await self._db.conn.execute(
            "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)
        )

    async def holder(self, name: str) -> tuple[str, datetime] | None:
        """Who holds the lease, and until when (None: nobody ever took it, or it was given up)."""
        async with self._db.conn.execute(
            "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else (str(row[0]), from_db(row[1]))
