"""The send budget shared by instances on PostgreSQL (bot/delivery/budget.py): slots on one
grid of the database server's clock, each person's next moment, a 429's pause.

On SQLite the budget lives in the process (one instance) and nothing here is called; the tables
(migration 0022) exist on both engines so that copy-db finds the same tables on each side.
Every statement is one round trip and runs on its own (never inside a transaction: the slot's
advisory lock would then be held until that transaction ends).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class Slot:
    """What the budget said: ``taken`` or not; ``wait`` seconds until the slot (or until one
    might be had); ``chat_wait`` seconds until the chat, the pause or a group's minute lets a
    message go; ``pause_wait`` seconds until a 429's pause ends (0: none)."""

    taken: bool
    wait: float
    chat_wait: float
    pause_wait: float


class SendBudgetRepository:
    """All SQL of the shared budget (PostgreSQL: take_send_slot is in 0022's variant)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(
        self,
        chat_id: int,
        *,
        bulk: bool,
        spacing_s: float,
        gap_s: float,
        per_window: int,
        window_s: float,
        horizon_s: float,
    ) -> Slot:
        """Take the first free slot for a message to ``chat_id`` (bulk: only within
        ``horizon_s``): see take_send_slot in storage/migrations/0022_send_budget.postgresql.sql."""
        async with self._db.conn.execute(
            "SELECT taken, wait, chat_wait, pause_wait FROM take_send_slot(?, ?, ?, ?, ?, ?, ?)",
            (chat_id, bulk, spacing_s, gap_s, per_window, window_s, horizon_s),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return Slot(bool(row[0]), float(row[1]), float(row[2]), float(row[3]))

    async def landed(self, chat_id: int, gap_s: float) -> None:
        """Telegram answered a message to the person ``chat_id``: their next message goes
        ``gap_s`` after now (the answer came after the message arrived)."""
        await self._db.conn.execute(
            "UPDATE send_chats SET next_at = GREATEST(next_at, "
            "CAST(extract(epoch FROM clock_timestamp()) AS DOUBLE PRECISION) + ?) "
            "WHERE chat_id = ?",
            (gap_s, chat_id),
        )

    async def pause(self, seconds: float) -> None:
        """A 429: nothing goes, from any instance, for ``seconds``."""
        await self._db.conn.execute(
            "INSERT INTO send_pause (id, until_at) "
            "VALUES (1, CAST(extract(epoch FROM clock_timestamp()) AS DOUBLE PRECISION) + ?) "
            "ON CONFLICT (id) DO UPDATE SET until_at = GREATEST(send_pause.until_at, "
            "excluded.until_at)",
            (seconds,),
        )
