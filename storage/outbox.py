"""The outbox: one row per (kind, subject, recipient), pending → sending → sent/failed/blocked."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, from_db, to_db, utcnow

_COLUMNS = (
    "id, kind, subject, chat_id, payload, state, attempts, not_before, message_id, error, "
    "created_at, updated_at, lane"
)
# Rows a batch job writes in one short transaction before letting others in. At national scale
# each outbox row touches its own page of the index by chat, so a transaction's time grows
# with its rows: 1,000 held the database 170-250 ms on a loaded machine, 250 about a quarter.
CHUNK = 250

# Priority lanes: the sender takes every due row of lane 0 before lane 1, and of 1 before 2.
# Replies are never queued (handlers answer directly). A kind not named here is routine.
TIME_CRITICAL, ROUTINE, BULK = 0, 1, 2
LANES = {
    "reminder": TIME_CRITICAL,
    "change": TIME_CRITICAL,  # an activity changed, paused or cancelled (a date or for good)
    "concern": TIME_CRITICAL,  # safeguarding
    "notice": TIME_CRITICAL,  # moderation and other notices to admins and volunteers
    "digest": ROUTINE,
    "weekly": ROUTINE,
    "campaign": BULK,
}
LANE_ORDER = (TIME_CRITICAL, ROUTINE, BULK)


def lane_of(kind: str) -> int:
    """The priority lane of an outbox kind."""
    return LANES.get(kind, ROUTINE)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message to be sent: rendered at send time from ``payload`` by the ``kind``'s renderer."""

    kind: str
    subject: str
    chat_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A stored outbox row."""

    id: int
    kind: str
    subject: str
    chat_id: int
    payload: dict[str, Any]
    state: str
    attempts: int
    not_before: datetime
    message_id: int | None
    error: str | None
    lane: int = ROUTINE


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        kind=row["kind"],
        subject=row["subject"],
        chat_id=row["chat_id"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        not_before=from_db(row["not_before"]),
        message_id=row["message_id"],
        error=row["error"],
        lane=row["lane"],
    )


class OutboxRepository:
    """All SQL about the outbox and chat reachability."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, items: Iterable[OutboxItem], now: datetime | None = None) -> int:
        """Add messages; a (kind, subject, chat) already there is skipped.

        Written in chunks of ``CHUNK`` rows, each in its own short transaction, yielding to
        other tasks in between (a job queueing 200,000 digests never holds the database long).
        Run again after an interruption, it adds only what is missing. Chats known to be
        unreachable get their rows as 'blocked' straight away.
        """
        stamp = now or utcnow()
        added = 0
        iterator = iter(items)
        while chunk := outbox_rows(itertools.islice(iterator, CHUNK), stamp):
            async with self._db.transaction() as conn:
                added += await insert_rows(conn, chunk)
            await asyncio.sleep(0)
        return added

    async def claim(self, now: datetime, limit: int) -> list[OutboxRow]:
        """Mark up to ``limit`` due rows as 'sending' and return them: every due row of the
        time-critical lane first, then routine ones, then bulk; oldest first in a lane."""
        lane = (
            "SELECT id FROM (SELECT id FROM outbox WHERE state = 'pending' AND lane = ? "
            "AND not_before <= ? ORDER BY not_before, id LIMIT ?) AS due"
        )
        lanes = " UNION ALL ".join([lane] * len(LANE_ORDER))
        params: list[Any] = [to_db(now)]
        for number in LANE_ORDER:
            params += [number, to_db(now), limit]
        async with self._db.conn.execute(
            f"UPDATE outbox SET state = 'sending', updated_at = ? WHERE id IN ("
            f"SELECT id FROM ({lanes}) AS lanes LIMIT ?) RETURNING {_COLUMNS}",
            (*params, limit),
        ) as cur:
            rows = [_row(r) for r in await cur.fetchall()]
        return sorted(rows, key=lambda r: (r.lane, r.not_before, r.id))

    async def recover(self) -> int:
        """After a crash: rows left 'sending' go back to 'pending' (each may be sent twice)."""
        async with self._db.conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE state = 'sending'"
        ) as cur:
            return cur.rowcount

    async def recent_chats(self, since: datetime) -> dict[int, tuple[datetime | None, int]]:
        """Chats messages may have reached since ``since`` (a restart's predecessor's last
        sends): chat → (the latest time one was marked sent or failed, or None when a row
        was left in flight, its send time unknown; how many). Call before ``recover``."""
        found: dict[int, tuple[datetime | None, int]] = {}
        async with self._db.conn.execute(
            "SELECT chat_id, MAX(updated_at), COUNT(*) FROM outbox "
            f"WHERE state IN ('sent', 'failed') AND updated_at >= ? GROUP BY {self._db.unindexed('chat_id')}",
            (to_db(since),),
        ) as cur:
            for r in await cur.fetchall():
                found[int(r[0])] = (from_db(r[1]), int(r[2]))
        async with self._db.conn.execute(
            # through the index on state (not a scan of every row in chat order)
            f"SELECT chat_id, COUNT(*) FROM outbox {self._db.indexed_by('outbox_claim')} "
            "WHERE state = 'sending' GROUP BY chat_id"
        ) as cur:
            for r in await cur.fetchall():
                found[int(r[0])] = (None, found.get(int(r[0]), (None, 0))[1] + int(r[1]))
        return found

    async def release(self, row_ids: Iterable[int]) -> None:
        """Claimed rows not attempted (shutdown): back to 'pending' as they were."""
        await self._db.conn.executemany(
            "UPDATE outbox SET state = 'pending' WHERE id = ? AND state = 'sending'",
            [(i,) for i in row_ids],
        )

    async def sent(self, row_id: int, message_id: int, now: datetime) -> None:
        """The message reached Telegram."""
        await self._db.conn.execute(
            "UPDATE outbox SET state = 'sent', message_id = ?, attempts = attempts + 1, "
            "error = NULL, updated_at = ? WHERE id = ?",
            (message_id, to_db(now), row_id),
        )

    async def retry(
        self, row_id: int, not_before: datetime, error: str, now: datetime, count: bool = True
    ) -> None:
        """Try again later (``count``: this was a failed attempt)."""
        await self._db.conn.execute(
            "UPDATE outbox SET state = 'pending', not_before = ?, error = ?, "
            "attempts = attempts + ?, updated_at = ? WHERE id = ?",
            (to_db(not_before), error[:500], 1 if count else 0, to_db(now), row_id),
        )

    async def fail(self, row_id: int, error: str, now: datetime) -> None:
        """Give up on this row (a permanent error, or too many attempts)."""
        await self._db.conn.execute(
            "UPDATE outbox SET state = 'failed', error = ?, attempts = attempts + 1, "
            "updated_at = ? WHERE id = ?",
            (error[:500], to_db(now), row_id),
        )

    async def set_unreachable(self, chat_id: int, reason: str, now: datetime) -> int:
        """The chat blocked the bot (or is gone): stop sending there; returns rows blocked."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO chat_status (chat_id, unreachable, reason, updated_at) "
                "VALUES (?, 1, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET unreachable = 1, "
                "reason = excluded.reason, updated_at = excluded.updated_at",
                (chat_id, reason[:200], to_db(now)),
            )
            async with conn.execute(
                "UPDATE outbox SET state = 'blocked', error = ?, updated_at = ? "
                "WHERE chat_id = ? AND state IN ('pending', 'sending')",
                (reason[:500], to_db(now), chat_id),
            ) as cur:
                return cur.rowcount

    async def set_reachable(self, chat_id: int, now: datetime) -> bool:
        """The person wrote again or unblocked the bot; True if they had been unreachable."""
        async with self._db.conn.execute(
            "UPDATE chat_status SET unreachable = 0, reason = NULL, updated_at = ? "
            "WHERE chat_id = ? AND unreachable = 1",
            (to_db(now), chat_id),
        ) as cur:
            return cur.rowcount > 0

    async def unreachable_chats(self) -> set[int]:
        """Every chat we must not send to."""
        async with self._db.conn.execute(
            "SELECT chat_id FROM chat_status WHERE unreachable = 1"
        ) as cur:
            return {row[0] for row in await cur.fetchall()}

    async def chat_status_since(self, moment: datetime) -> dict[int, bool]:
        """The chats whose status changed at or after ``moment`` (on any instance): True for
        those that cannot be sent to now."""
        async with self._db.conn.execute(
            "SELECT chat_id, unreachable FROM chat_status WHERE updated_at >= ?", (to_db(moment),)
        ) as cur:
            return {int(row[0]): bool(row[1]) for row in await cur.fetchall()}

    async def migrate_chat(self, old: int, new: int, now: datetime) -> None:
        """A group became a supergroup: its pending rows and weekly post follow it."""
        async with self._db.transaction() as conn:
            await conn.execute(  # a row the new chat has already stays behind
                "UPDATE outbox SET chat_id = ?, updated_at = ? "
                "WHERE chat_id = ? AND state IN ('pending', 'sending') AND NOT EXISTS (SELECT 1 "
                "FROM outbox AS moved WHERE moved.chat_id = ? AND moved.kind = outbox.kind "
                "AND moved.subject = outbox.subject)",
                (new, to_db(now), old, new),
            )
            await conn.execute(  # a group chat's weekly post follows it too
                "UPDATE group_chats SET chat_id = ?, updated_at = ? WHERE chat_id = ? "
                "AND NOT EXISTS (SELECT 1 FROM group_chats AS moved WHERE moved.chat_id = ?)",
                (new, to_db(now), old, new),
            )

    async def hold(self, row_id: int, reason: str, now: datetime) -> None:
        """A claimed row whose subject is on hold (a paused call): set aside, not sent."""
        await self._db.conn.execute(
            "UPDATE outbox SET state = 'cancelled', error = ?, updated_at = ? WHERE id = ?",
            (reason[:500], to_db(now), row_id),
        )

    async def counts(self, kind: str | None = None, subject: str | None = None) -> dict[str, int]:
        """How many rows are in each state."""
        async with self._db.conn.execute(
            "SELECT state, COUNT(*) FROM outbox WHERE (CAST(? AS TEXT) IS NULL OR kind = ?) "
            "AND (CAST(? AS TEXT) IS NULL OR subject = ?) GROUP BY state",
            (kind, kind, subject, subject),
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def counts_by_kind(self, batch: int = 10_000) -> dict[tuple[str, str], int]:
        """How many rows of each kind are in each state (the metrics page), counted ``batch``
        ids at a time: a campaign's 350,000 rows are counted without holding the database."""
        counts: dict[tuple[str, str], int] = {}
        rows = await self._db.conn.execute_fetchall("SELECT MIN(id), MAX(id) FROM outbox")
        low, high = next(iter(rows))
        if low is None:
            return counts
        for start in range(int(low) - 1, int(high), batch):
            for row in await self._db.conn.execute_fetchall(
                "SELECT kind, state, COUNT(*) FROM outbox WHERE id > ? AND id <= ? "
                "GROUP BY kind, state",
                (start, start + batch),
            ):
                key = (row[0], row[1])
                counts[key] = counts.get(key, 0) + int(row[2])
        return counts

    async def next_due(self) -> datetime | None:
        """When the earliest pending row becomes due."""
        async with self._db.conn.execute(
            "SELECT MIN(not_before) FROM outbox WHERE state = 'pending'"
        ) as cur:
            row = await cur.fetchone()
        return from_db(row[0]) if row and row[0] else None

    async def get(self, row_id: int) -> OutboxRow | None:
        """One row."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (row_id,)
        ) as cur:
            row = await cur.fetchone()
        return _row(row) if row else None

    async def purge_finished(self, before: datetime, chunk: int = CHUNK) -> int:
        """Delete rows finished before ``before``, keeping their anonymous monthly counts.

        In chunks (found through the index on state and finish time), each counted and
        deleted in its own short transaction: an interrupted purge counts nothing twice.
        """
        purged = 0
        while True:
            async with self._db.transaction() as conn:
                async with conn.execute(
                    "SELECT id FROM outbox WHERE state IN ('sent', 'failed', 'blocked', "
                    "'cancelled') AND updated_at < ? LIMIT ?",
                    (to_db(before), chunk),
                ) as cur:
                    ids = [int(r[0]) for r in await cur.fetchall()]
                if ids:
                    marks = ", ".join("?" * len(ids))
                    purged += await delete_counted(conn, f"id IN ({marks})", tuple(ids))
            if len(ids) < chunk:
                return purged
            await asyncio.sleep(0)

    async def tally(self) -> dict[tuple[str, str, str], int]:
        """The counts of rows deleted so far: (month, kind, state) → count."""
        async with self._db.conn.execute(
            "SELECT month, kind, state, count FROM outbox_tally"
        ) as cur:
            return {(r[0], r[1], r[2]): r[3] for r in await cur.fetchall()}


async def delete_counted(conn: Connection, where: str, params: tuple[Any, ...]) -> int:
    """Delete outbox rows matching ``where`` (a constant), adding finished ones to the tally.

    Pending rows are simply dropped: they were never sent, so there is nothing to count.
    """
    await conn.execute(
        "INSERT INTO outbox_tally (month, kind, state, count) "
        "SELECT substr(updated_at, 1, 7), kind, state, COUNT(*) FROM outbox "
        f"WHERE ({where}) AND state IN ('sent', 'failed', 'blocked') GROUP BY 1, 2, 3 "
        "ON CONFLICT (month, kind, state) DO UPDATE SET count = outbox_tally.count + excluded.count",
        params,
    )
    async with conn.execute(f"DELETE FROM outbox WHERE {where}", params) as cur:
        return cur.rowcount


def outbox_rows(items: Iterable[OutboxItem], stamp: datetime) -> list[tuple[Any, ...]]:
    """The parameters of ``insert_rows`` for these items: built before a transaction opens,
    so the transaction only writes."""
    added = to_db(stamp)
    return [
        (
            item.kind,
            item.subject,
            item.chat_id,
            json.dumps(item.payload, ensure_ascii=False, sort_keys=True),
            to_db(item.not_before) if item.not_before is not None else added,
            added,
            added,
            lane_of(item.kind),
            item.chat_id,
        )
        for item in items
    ]


async def insert_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert ``outbox_rows`` inside the caller's transaction; returns how many were new."""
    async with conn.executemany(
        "INSERT INTO outbox (kind, subject, chat_id, payload, not_before, "
        "created_at, updated_at, lane, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN EXISTS "
        "(SELECT 1 FROM chat_status WHERE chat_id = ? AND unreachable = 1) "
        "THEN 'blocked' ELSE 'pending' END) ON CONFLICT DO NOTHING",
        rows,
    ) as cur:
        return cur.rowcount
