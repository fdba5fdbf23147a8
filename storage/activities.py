"""Welcoming activities and the dates their series skip."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import aiosqlite

from storage.db import Database, date_from_db, from_db, to_db, upsert_sql, utcnow
from storage.models import Activity, ActivityData

_COLUMNS = (
    "id, ref, group_id, title, category, description, venue, address, postcode, lat, lon, "
    "starts_at, duration_min, rrule, until, languages, cost, needs, contact, status, "
    "created_by, updated_at"
)
_PREFIXED = ", ".join("a." + c.strip() for c in _COLUMNS.split(","))
_DATA_COLUMNS = (
    "ref",
    "group_id",
    "title",
    "category",
    "description",
    "venue",
    "address",
    "postcode",
    "lat",
    "lon",
    "starts_at",
    "duration_min",
    "rrule",
    "until",
    "languages",
    "cost",
    "needs",
    "contact",
)
_UPSERT = upsert_sql("activities", _DATA_COLUMNS, "ref")


def _activity(row: Any, skips: frozenset[date] = frozenset()) -> Activity:
    return Activity(
        id=row["id"],
        ref=row["ref"],
        group_id=row["group_id"],
        title=row["title"],
        category=row["category"],
        description=row["description"],
        venue=row["venue"],
        address=row["address"],
        postcode=row["postcode"],
        lat=row["lat"],
        lon=row["lon"],
        starts_at=from_db(row["starts_at"]),
        duration_min=row["duration_min"],
        rrule=row["rrule"],
        until=date_from_db(row["until"]),
        languages=tuple(row["languages"].split()),
        cost=row["cost"],
        needs=frozenset(row["needs"].split()),
        contact=row["contact"],
        status=row["status"],
        created_by=row["created_by"],
        updated_at=from_db(row["updated_at"]),
        skips=skips,
    )


def _row(item: ActivityData, group_id: int) -> tuple[Any, ...]:
    return (
        item.ref,
        group_id,
        item.title,
        item.category,
        item.description,
        item.venue,
        item.address,
        item.postcode,
        item.lat,
        item.lon,
        to_db(item.starts_at),
        item.duration_min,
        item.rrule,
        item.until.isoformat() if item.until else None,
        " ".join(item.languages),
        item.cost,
        " ".join(sorted(item.needs)),
        item.contact,
    )


class ActivityRepository:
    """All SQL about activities."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _skips(self) -> dict[int, frozenset[date]]:
        found: dict[int, set[date]] = defaultdict(set)
        async with self._db.conn.execute("SELECT activity_id, local_date FROM activity_skips") as c:
            for row in await c.fetchall():
                found[row[0]].add(date.fromisoformat(row[1]))
        return {k: frozenset(v) for k, v in found.items()}

    async def published(self) -> list[Activity]:
        """Every published activity with its skipped dates: two queries, for the search index."""
        skips = await self._skips()
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM activities WHERE status = 'published' ORDER BY id"
        ) as cur:
            return [_activity(r, skips.get(r["id"], frozenset())) for r in await cur.fetchall()]

    async def get(self, activity_id: int) -> Activity | None:
        """One activity by id, any status."""
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM activities WHERE id = ?", (activity_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self._db.conn.execute(
            "SELECT local_date FROM activity_skips WHERE activity_id = ?", (activity_id,)
        ) as cur:
            skips = frozenset(date.fromisoformat(r[0]) for r in await cur.fetchall())
        return _activity(row, skips)

    async def stamp(self) -> tuple[int, str]:
        """A cheap fingerprint that changes whenever activities change (for index refresh)."""
        async with self._db.conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(updated_at), '') FROM activities"
        ) as cur:
            row = await cur.fetchone()
        async with self._db.conn.execute("SELECT COUNT(*) FROM activity_skips") as cur:
            skips = await cur.fetchone()
        assert row is not None and skips is not None
        return int(row[0]) * 1_000_003 + int(skips[0]), str(row[1])

    async def with_group_refs(self) -> list[tuple[Activity, str]]:
        """Every activity with its group's ref, for export."""
        skips = await self._skips()
        async with self._db.conn.execute(
            f"SELECT {_PREFIXED}, g.ref AS group_ref "
            "FROM activities a JOIN groups g ON g.id = a.group_id ORDER BY a.ref, a.id"
        ) as cur:
            return [
                (_activity(r, skips.get(r["id"], frozenset())), r["group_ref"])
                for r in await cur.fetchall()
            ]

    @staticmethod
    async def upsert_many(
        conn: aiosqlite.Connection,
        items: Iterable[ActivityData],
        group_ids: Mapping[str, int],
    ) -> int:
        """Insert or update activities by ref inside the caller's transaction."""
        now = to_db(utcnow())
        rows = [(*_row(item, group_ids[item.group_ref]), now, now) for item in items]
        await conn.executemany(_UPSERT, rows)
        return len(rows)

    async def count(self) -> int:
        """How many activities, any status."""
        async with self._db.conn.execute("SELECT COUNT(*) FROM activities") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def set_status(
        self, activity_id: int, status: str, now: datetime, only_from: tuple[str, ...] = ()
    ) -> bool:
        """Publish, hide or cancel an activity (from ``only_from`` states when given)."""
        if status not in ("draft", "pending", "published", "hidden", "cancelled"):
            raise ValueError(status)
        guard = ""
        params: tuple[object, ...] = (status, to_db(now), activity_id)
        if only_from:
            guard = f" AND status IN ({', '.join('?' * len(only_from))})"
            params = (*params, *only_from)
        async with self._db.conn.execute(
            f"UPDATE activities SET status = ?, updated_at = ? WHERE id = ?{guard}", params
        ) as cur:
            return cur.rowcount > 0
